// Calls a host daemon's admin API with its token and answers the JSON body, whatever the status:
// the tests and benchmarks that drive a daemon (in this process or another) share it.

/** @param {string} url @param {string} token */
export function adminApi(url, token) {
  return async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.json();
  };
}
