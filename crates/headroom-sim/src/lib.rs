//! A synthetic B2B SaaS portfolio in the data contract, generated from switchable
//! mechanisms (adoption, decline before churn, growth toward limits, seasonality)
//! together with the ground truth behind every outcome.
