//! The as-of feature pipeline: from the normalized tables to one row of
//! utilization, trajectory, adoption, seasonality and contract features per
//! account at a date, using only data dated on or before it.
