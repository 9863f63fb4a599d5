//! TODO: link state, sysctls, routing
