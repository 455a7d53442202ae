// `isorelay status`: placeholder being written.
export function statusCommand(_opts: unknown): Promise<void> {
  return Promise.reject(new Error('status: not implemented yet'));
}
