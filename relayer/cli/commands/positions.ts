// `isorelay positions`: placeholder being written.
export function positionsCommand(_opts: unknown): Promise<void> {
  return Promise.reject(new Error('positions: not implemented yet'));
}
