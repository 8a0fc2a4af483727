/* fetch() against the REST API with the session cookie and the CSRF header. */
(function (global) {
  "use strict";

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }

  function ApiError(status, body) {
    this.status = status;
    this.body = body || {};
    this.message = (body && (body.detail || body.message)) || "Request failed (" + status + ")";
  }

  function request(method, url, body) {
    var opts = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    };
    if (method !== "GET") opts.headers["X-CSRFToken"] = cookie("csrftoken") || "";
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (resp) {
      if (resp.status === 204) return null;
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) throw new ApiError(resp.status, data);
        return data;
      });
    });
  }

  // Paginated lists come as {results: [...]}; plain lists pass through.
  function list(url) {
    return request("GET", url).then(function (data) {
      return Array.isArray(data) ? data : (data.results || []);
    });
  }

  global.Api = {
    get: function (url) { return request("GET", url); },
    list: list,
    post: function (url, body) { return request("POST", url, body === undefined ? {} : body); },
    patch: function (url, body) { return request("PATCH", url, body); },
    del: function (url) { return request("DELETE", url); },
    ApiError: ApiError
  };
})(window);
