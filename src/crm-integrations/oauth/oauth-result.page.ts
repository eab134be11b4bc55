const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The page a person sees at the end of the CRM sign-in: what happened, in words, and nothing secret. */
export function renderOAuthResultPage(result: { ok: boolean; message: string }): string {
  const title = result.ok ? 'CRM connected' : 'CRM not connected';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2937}
h1{font-size:1.4rem}.ok{color:#047857}.fail{color:#b91c1c}</style></head>
<body><h1 class="${result.ok ? 'ok' : 'fail'}">${title}</h1><p>${escapeHtml(result.message)}</p></body></html>`;
}
