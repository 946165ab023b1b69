//! A small document model (headings, paragraphs, lists, tables) that the
//! review is built into once and printed as a terminal table, Markdown or
//! HTML.

/// The alignment of a table column's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text columns.
    Left,
    /// Number columns.
    Right,
}

/// One block of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading; level 1 is the title.
    Heading(u8, String),
    /// A paragraph of text.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table with a header row.
    Table(Table),
    /// A chart of predicted against observed rates, drawn only in HTML.
    Calibration(Vec<CalibrationPoint>),
}

/// A table: column names and alignments, then rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The header cells and how each column aligns.
    pub columns: Vec<(String, Align)>,
    /// The body rows; each has one cell per column.
    pub rows: Vec<Vec<String>>,
}

/// One populated calibration bin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationPoint {
    /// Mean predicted probability.
    pub predicted: f64,
    /// Observed positive rate.
    pub observed: f64,
    /// Accounts in the bin.
    pub count: usize,
}

/// A document: its blocks in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// The blocks, in reading order.
    pub blocks: Vec<Block>,
}

impl Document {
    /// Appends a heading.
    pub fn heading(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading(level, text.into()));
    }

    /// Appends a paragraph.
    pub fn paragraph(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Paragraph(text.into()));
    }

    /// Appends a bulleted list; an empty list adds nothing.
    pub fn list(&mut self, items: Vec<String>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    /// Appends a table.
    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table(table));
    }

    /// Appends a calibration chart.
    pub fn calibration(&mut self, points: Vec<CalibrationPoint>) {
        if !points.is_empty() {
            self.blocks.push(Block::Calibration(points));
        }
    }
}

impl Table {
    /// Starts a table with the given columns.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(name, align)| (name.to_string(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "one cell per column");
        self.rows.push(cells);
    }
}
