// Why the engine refuses a delivery, by its custom error: the reasons no retry can change, shared
// by every transport (each adds its own protocol's permanent errors).

export const ENGINE_REJECTIONS: Readonly<Record<string, string>> = {
  AlreadyProcessed: 'the lockId was already credited: replayed message',
  OriginMismatch: 'the message names another origin than the authenticated sender',
  CollateralNotAllowed: 'the collateral token is not allowed on the engine',
  UnsupportedKind: 'the engine does not accept this message kind',
  UnsupportedVersion: 'unsupported wire format version',
  UnknownKind: 'unknown message kind',
  BadMessageLength: 'malformed message (length)',
  NonCanonicalWord: 'malformed message (non-canonical word)',
  ZeroAmount: 'malformed message (zero amount)',
};
