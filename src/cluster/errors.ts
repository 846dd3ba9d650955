/** Routing failures of the cluster module: which slot, and what went wrong. */
export class ClusterRouteError extends Error {
  override readonly name = 'ClusterRouteError';
  constructor(
    message: string,
    readonly slot: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
