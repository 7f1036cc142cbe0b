/** Calls the admin API at `url` with `token`; resolves with the JSON body, whatever the status. */
export function adminApi(
  url: string,
  token: string,
): (method: string, path: string, body?: unknown) => Promise<any>;
