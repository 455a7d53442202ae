// `isorelay doctor`: placeholder being written.
export function doctorCommand(_opts: unknown): Promise<void> {
  return Promise.reject(new Error('doctor: not implemented yet'));
}
