/* fetch() against the REST API with the session cookie and the CSRF header. */

function cookie(name) {
  const match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
  return match ? decodeURIComponent(match[1]) : null;
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.message)) || "Request failed (" + status + ")");
    this.status = status;
    this.body = body || {};
  }
}

async function request(method, url, body) {
  const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") opts.headers["X-CSRFToken"] = cookie("csrftoken") || "";
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(url, opts);
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (url) => request("GET", url);
export const post = (url, body) => request("POST", url, body === undefined ? {} : body);
export const patch = (url, body) => request("PATCH", url, body);
export const del = (url) => request("DELETE", url);

// Paginated lists come as {results: [...]}; plain lists pass through.
export async function list(url) {
  const data = await get(url);
  return Array.isArray(data) ? data : (data.results || []);
}

// multipart/form-data (file uploads); the browser sets the boundary header.
export async function upload(url, formData) {
  const resp = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": cookie("csrftoken") || "" },
    body: formData,
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}
