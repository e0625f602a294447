//! Analysis on districts: aggregation, group comparison, neighbours and spatial statistics.
