// Signing in. Locally: paste a token from `moderato token`. Deployed: Cognito's hosted UI with the
// authorization code flow and PKCE (a public client: no secret in the page). The ID token is kept in
// sessionStorage only (gone when the tab closes) and sent as the Bearer token.
const TOKEN_KEY = "moderato.token";
const PKCE_KEY = "moderato.pkce";

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function keepToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// Display only: the gateway verifies the signature, the API decides what this person may do.
export function claimsOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(Array.from(atob(payload), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""));
    const claims = JSON.parse(json);
    let groups = claims["cognito:groups"] || [];
    if (typeof groups === "string") groups = groups.replace(/[[\]]/g, "").split(/[\s,]+/).filter(Boolean);
    return { user: claims["cognito:username"] || claims.username || claims.sub, sub: claims.sub, groups,
             expires: claims.exp ? claims.exp * 1000 : null };
  } catch {
    return null;
  }
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

export async function startHostedSignIn(auth) {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    response_type: "code", client_id: auth.client_id, redirect_uri: redirectUri(), scope: "openid profile email",
    state, code_challenge_method: "S256", code_challenge: challenge,
  });
  location.assign(`${auth.domain}/oauth2/authorize?${query}`);
}

// Back from the hosted UI with ?code=...&state=...: trade the code (and the PKCE verifier) for tokens.
export async function finishHostedSignIn(auth) {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code || !auth) return null;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", location.pathname);
  if (!saved || saved.state !== params.get("state")) return null;
  const response = await fetch(`${auth.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: auth.client_id, code,
                                redirect_uri: redirectUri(), code_verifier: saved.verifier }),
  });
  if (!response.ok) return null;
  const tokens = await response.json();
  return tokens.id_token || null;
}

export function hostedSignOutUrl(auth) {
  const query = new URLSearchParams({ client_id: auth.client_id, logout_uri: redirectUri() });
  return `${auth.domain}/logout?${query}`;
}
