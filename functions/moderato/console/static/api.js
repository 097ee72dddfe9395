// The review API, on the same origin and stage as the console (/console -> /cases).
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.code)) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.body = body;
  }
}

export function apiBase(pathname = location.pathname) {
  const at = pathname.lastIndexOf("/console");
  return at >= 0 ? pathname.slice(0, at) : "";
}

export class Api {
  constructor(token, base = apiBase()) {
    this.token = token;
    this.base = base;
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`${this.base}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  list(params) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
    return this.request("GET", `/cases?${query}`);
  }

  detail(caseId) { return this.request("GET", `/cases/${encodeURIComponent(caseId)}`); }
  claim(caseId, version) { return this.post(caseId, "claim", { expected_version: version }); }
  release(caseId, version) { return this.post(caseId, "release", { expected_version: version }); }
  decide(caseId, body) { return this.post(caseId, "decisions", body); }
  undoHide(caseId, version, reason) { return this.post(caseId, "undo-hide", { expected_version: version, reason }); }
  proposeBan(caseId, version, reason) { return this.post(caseId, "ban-proposals", { expected_version: version, reason }); }
  approve(caseId, proposalId, version, reason) {
    return this.post(caseId, `ban-proposals/${encodeURIComponent(proposalId)}/approve`,
      { expected_version: version, ...(reason ? { reason } : {}) });
  }
  reject(caseId, proposalId, version, reason) {
    return this.post(caseId, `ban-proposals/${encodeURIComponent(proposalId)}/reject`,
      { expected_version: version, ...(reason ? { reason } : {}) });
  }
  bulkHide(cases, reason) { return this.request("POST", "/cases/bulk-hide", { reason, cases }); }

  post(caseId, action, body) {
    return this.request("POST", `/cases/${encodeURIComponent(caseId)}/${action}`, body);
  }
}
