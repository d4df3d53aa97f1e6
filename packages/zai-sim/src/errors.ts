/** A Z.AI-style failure: HTTP status outside, business code (always a string here) inside. */
export interface ApiError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export type ErrorShape = 'nested' | 'flat';

export function apiError(status: number, code: string, message: string): ApiError {
  return { status, code, message };
}

/** nested: `{"error":{"code":"1214",...}}` (string code); flat: `{"code":1214,...}` (numeric code). */
export function errorBody(error: ApiError, shape: ErrorShape): string {
  if (shape === 'flat') {
    const numeric = Number(error.code);
    return JSON.stringify({ code: Number.isInteger(numeric) ? numeric : error.code, message: error.message });
  }
  return JSON.stringify({ error: { code: error.code, message: error.message } });
}

export function outcomeKey(error: ApiError): string {
  return `${error.status}:${error.code}`;
}

export const errors = {
  missingAuth: () =>
    apiError(401, '1001', 'Authentication parameter not received in Header, unable to authenticate'),
  invalidKey: () =>
    apiError(401, '1002', 'Invalid Authentication Token, please confirm the Authentication Token is passed correctly'),
  authExpired: () => apiError(401, '1003', 'Authentication Token has expired, please regenerate or obtain a new one'),
  accountLocked: () => apiError(429, '1112', 'Your account has been locked, please contact customer service to unlock it'),
  arrears: () => apiError(429, '1113', 'Your account is in arrears, please recharge and try again'),
  accountViolation: () =>
    apiError(429, '1121', 'Your account has been locked because of irregular activity, please contact customer service'),
  unknownModel: (model: string) =>
    apiError(400, '1211', `Model does not exist, please check the model code: ${model}`),
  missingField: (field: string) => apiError(400, '1213', `The ${field} parameter was not received normally`),
  invalidField: (field: string, detail: string) =>
    apiError(400, '1214', `${field}: ${detail}. Invalid parameter, please check the documentation`),
  invalidJson: () => apiError(400, '1214', 'body: request body is not valid JSON. Invalid parameter, please check the documentation'),
  bodyTooLarge: (limit: number) =>
    apiError(413, '1214', `body: request body exceeds ${limit} bytes. Invalid parameter, please check the documentation`),
  duplicateRequest: () => apiError(429, '1231', `You already have a request in progress: ${fakeId()}`),
  networkError: () =>
    apiError(500, '1234', `Network error, error id: ${fakeId()}, please contact customer service`),
  promptTooLong: () => apiError(400, '1261', 'Prompt exceeds the maximum length'),
  sensitiveContent: () =>
    apiError(
      400,
      '1301',
      'The system detected potentially unsafe or sensitive content in the input or generated content. Please avoid prompts that may produce sensitive content',
    ),
  concurrency: () =>
    apiError(429, '1302', 'High concurrency usage of this API, please reduce concurrency or contact customer service to raise the limit'),
  frequency: () =>
    apiError(429, '1303', 'High frequency usage of this API, please reduce frequency or contact customer service to raise the limit'),
  dailyQuota: () =>
    apiError(429, '1304', 'The daily call limit for this API has been reached, please contact customer service for more'),
  overloaded: () => apiError(429, '1305', 'The service may be temporarily overloaded, please try again later'),
  modelOverloaded: () =>
    apiError(429, '1312', 'This model is currently experiencing high traffic, please try again later or switch to another model'),
  internal: () => apiError(500, '500', 'Internal Error'),
  notFound: (path: string) => apiError(404, '404', `Not Found: ${path}`),
  methodNotAllowed: (method: string) => apiError(405, '405', `Method ${method} is not allowed`),
} as const;

function fakeId(): string {
  return Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');
}
