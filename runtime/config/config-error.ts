// The one error type of the device config. Its message is complete on its own ("config
// FILE:LINE: field.path: expected ..., got ..."), because `murmur start` prints it as the whole
// explanation and exits 78, and a person reading the journal has nothing else to go on.

export class ConfigError extends Error {}
