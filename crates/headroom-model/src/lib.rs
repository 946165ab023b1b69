//! Training sets, logistic churn and expansion models, their evaluation against
//! the usage-threshold rules, reason codes and the JSON model artifact.
