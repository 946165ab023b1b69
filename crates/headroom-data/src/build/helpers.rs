//! Helper columns that ride along with a source's rows until the
//! derivations run: contract terms, anniversary dates and churn flags.

use super::*;

impl<'a> Loader<'a> {
    /// The helper columns of a source's rows.
    pub(super) fn helper_values(
        &mut self,
        ctx: &SourceCtx,
        df: &DataFrame,
        rows: &IdxCa,
    ) -> Vec<Column> {
        let height = df.height();
        let source = ctx.source;
        let null = |name: &str, dtype: DataType| Column::full_null(name.into(), height, &dtype);
        match ctx.kind {
            TableKind::Contracts => {
                let term = self.open_end_terms(ctx, df, rows);
                let after = source
                    .open_end
                    .as_ref()
                    .and_then(|o| o.after.as_deref())
                    .and_then(|a| chrono::NaiveDate::parse_from_str(a, "%Y-%m-%d").ok());
                let after = date_scalar(AFTER_COL, after, height);
                let back = match source.term_months {
                    Some(months) => Column::new_scalar(
                        BACK_COL.into(),
                        Scalar::new(DataType::Int32, AnyValue::Int32(months as i32)),
                        height,
                    ),
                    None => null(BACK_COL, DataType::Int32),
                };
                vec![term, after, back]
            }
            TableKind::Outcomes => match &source.anniversaries {
                Some(spec) => {
                    let start = self.source_dates(ctx, df, rows, Some(&spec.start), ANNIV_START);
                    let end = self.source_dates(ctx, df, rows, spec.end.as_ref(), ANNIV_END);
                    let every = Column::new_scalar(
                        ANNIV_EVERY.into(),
                        Scalar::new(DataType::Int32, AnyValue::Int32(spec.every_months as i32)),
                        height,
                    );
                    let until = spec
                        .until
                        .as_deref()
                        .and_then(|a| chrono::NaiveDate::parse_from_str(a, "%Y-%m-%d").ok());
                    vec![start, end, every, date_scalar(ANNIV_UNTIL, until, height)]
                }
                None => vec![
                    null(ANNIV_START, DataType::Date),
                    null(ANNIV_END, DataType::Date),
                    null(ANNIV_EVERY, DataType::Int32),
                    null(ANNIV_UNTIL, DataType::Date),
                ],
            },
            TableKind::Accounts => match &source.churn_flag {
                Some(column) => {
                    let header = &ctx.headers[column];
                    let input = ColumnInput {
                        table: ctx.kind,
                        spec: &CHURN_FLAG_SPEC,
                        header,
                        path: ctx.path,
                        formats: ctx.formats,
                        values: None,
                        source_file: &source.file,
                        mapping: self.mapping.path.as_deref(),
                        percent: false,
                        currencies: None,
                        default_currency: None,
                        rows,
                    };
                    let column = df.column(header).expect("checked header");
                    vec![
                        parse_column(&input, column, &mut self.report)
                            .series
                            .into_column(),
                    ]
                }
                None => vec![null(CHURN_FLAG, DataType::Boolean)],
            },
            _ => Vec::new(),
        }
    }

    pub(super) fn source_dates(
        &mut self,
        ctx: &SourceCtx,
        df: &DataFrame,
        rows: &IdxCa,
        column: Option<&String>,
        name: &'static str,
    ) -> Column {
        let Some(header) = column.and_then(|c| ctx.headers.get(c)) else {
            return Column::full_null(name.into(), df.height(), &DataType::Date);
        };
        let spec: &'static ColumnSpec = match name {
            ANNIV_START => &ANNIV_START_SPEC,
            _ => &ANNIV_END_SPEC,
        };
        let input = ColumnInput {
            table: ctx.kind,
            spec,
            header,
            path: ctx.path,
            formats: ctx.formats,
            values: None,
            source_file: &ctx.source.file,
            mapping: self.mapping.path.as_deref(),
            percent: false,
            currencies: None,
            default_currency: None,
            rows,
        };
        let column = df.column(header).expect("checked header");
        parse_column(&input, column, &mut self.report)
            .series
            .into_column()
    }

    /// Reads the term in months of each contract row, from the open-end rule.
    pub(super) fn open_end_terms(
        &mut self,
        ctx: &SourceCtx,
        df: &DataFrame,
        rows: &IdxCa,
    ) -> Column {
        let height = df.height();
        let Some(open_end) = &ctx.source.open_end else {
            return Column::full_null(TERM_COL.into(), height, &DataType::Int32);
        };
        let Some(term_column) = &open_end.term_column else {
            let months = open_end.months.unwrap_or(12) as i32;
            return Column::new_scalar(
                TERM_COL.into(),
                Scalar::new(DataType::Int32, AnyValue::Int32(months)),
                height,
            );
        };
        let header = &ctx.headers[term_column];
        let words = text_values(df, header);
        let mut terms = Vec::with_capacity(height);
        for (position, word) in words.iter().enumerate() {
            let Some(word) = word else {
                terms.push(open_end.months.map(|m| m as i32));
                continue;
            };
            match open_end.terms.get(word.as_str()) {
                Some(months) => terms.push(Some(*months as i32)),
                None => {
                    let row = rows.get(position).unwrap_or(0) as usize;
                    self.report.push(
                        Issue::new(
                            Severity::Error,
                            Check::BadValue,
                            "term word not listed in open_end.terms",
                        )
                        .table(ctx.kind)
                        .file(ctx.path)
                        .at(Location::Row(row + 1))
                        .column(header.clone())
                        .value(word.clone())
                        .hint(format!(
                            "add {word:?} = <months> under open_end.terms in the mapping"
                        )),
                    );
                    terms.push(None);
                }
            }
        }
        Int32Chunked::from_iter_options(TERM_COL.into(), terms.into_iter()).into_column()
    }
}

pub(super) static CHURN_FLAG_SPEC: ColumnSpec = ColumnSpec {
    name: CHURN_FLAG,
    kind: ColumnKind::Bool,
    required: false,
};

pub(super) static ANNIV_START_SPEC: ColumnSpec = ColumnSpec {
    name: ANNIV_START,
    kind: ColumnKind::Date,
    required: false,
};

pub(super) static ANNIV_END_SPEC: ColumnSpec = ColumnSpec {
    name: ANNIV_END,
    kind: ColumnKind::Date,
    required: false,
};
