// Strips credentials and API keys in RPC URLs before a URL or an error text reaches a log.

/** `https://user:pass@host/v2/KEY` → `https://host/…`: keep only scheme, host and port. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hasPath = u.pathname !== '/' && u.pathname !== '';
    return `${u.protocol}//${u.host}${hasPath || u.search ? '/…' : ''}`;
  } catch {
    return '<invalid url>';
  }
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>)]+/g;

/** Replaces every URL in a text (an ethers error message, say) by its redacted form. */
export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, (m) => redactUrl(m));
}
