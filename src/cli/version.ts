// The version the CLI reports (and the builder records in provenance).
export const VERSION = "0.1.0";
