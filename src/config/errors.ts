/** A bad configuration value, file or key: the message is one line naming the key, the value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
