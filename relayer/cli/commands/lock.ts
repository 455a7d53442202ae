// `isorelay lock`: placeholder being written.
export function lockCommand(_opts: unknown): Promise<void> {
  return Promise.reject(new Error('lock: not implemented yet'));
}
