/**
 * Generated from the API's /openapi.json by `pnpm client:generate`: do not edit.
 */

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The process is up */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Up */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "ok";
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Redis and S3 answer */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Ready (or degraded: paused) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Readiness"];
                    };
                };
                /** @description Error: internal_error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Redis or S3 does not answer */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Readiness"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/images/generations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Queue a generation
         * @description Answers 202 once Redis holds the job (Location: its URL). Z.AI is called once per image, whatever is retried.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /**
                     * @description A repeat with the same key (and body) returns the same job, within IDEMPOTENCY_TTL_HOURS
                     * @example order-1001
                     */
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The Z.AI model: cogview-4-250304 (any letter case) */
                        model: string;
                        /**
                         * @description What to draw: at most 4000 characters
                         * @example a red bicycle leaning on a wall
                         */
                        prompt: string;
                        /**
                         * @default standard
                         * @enum {string}
                         */
                        quality?: "hd" | "standard";
                        /**
                         * @description WIDTHxHEIGHT: each side 512 to 2048 px in steps of 16, at most 2097152 pixels
                         * @default 1024x1024
                         * @example 1024x1024
                         * @example 1440x720
                         * @example 768x1344
                         */
                        size?: string;
                        /** @description The end user's id, passed on to Z.AI */
                        user_id?: string;
                        /** @description Receives the job once it ends, signed (Standard Webhooks) */
                        webhook_url?: string;
                        /** @description Yours, returned as given: a JSON object of at most 4096 bytes */
                        metadata?: {
                            [key: string]: components["schemas"]["JsonValueInput"];
                        };
                    };
                };
            };
            responses: {
                /** @description Queued (or, with a known Idempotency-Key, the job that key created: Idempotent-Replayed: true) */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Generation"];
                    };
                };
                /** @description Error: validation_error or invalid_json */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: forbidden */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: payload_too_large */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: unsupported_media_type */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: idempotency_conflict */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: rate_limited or too_many_unfinished */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: internal_error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: service_unavailable or queue_full */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/images/generations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a generation */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /**
                     * @description The generation id: gen_ and 32 hex digits
                     * @example gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f
                     */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The job */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Generation"];
                    };
                };
                /** @description Error: unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: forbidden */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: rate_limited */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: internal_error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/images/generations/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The generation's webhook deliveries */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /**
                     * @description The generation id: gen_ and 32 hex digits
                     * @example gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f
                     */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Its webhook state and every attempt */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Deliveries"];
                    };
                };
                /** @description Error: unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: forbidden */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: rate_limited */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: internal_error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/batches/{id}/results.jsonl": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A batch's results, one JSON line per item in input order
         * @description Partial while the batch runs and after a cancel; the same lines as the results.jsonl the worker writes to S3 when the batch ends.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The batch id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description JSON lines (application/x-ndjson) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/x-ndjson": string;
                    };
                };
                /** @description Error: unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: forbidden */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: rate_limited */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: internal_error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    "image.generation.succeeded": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The generation succeeded: sent to its webhook_url
         * @description Retried on WEBHOOK_RETRY_SCHEDULE until a 2xx; a 410 Gone stops the retries.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["GenerationEvent"];
                };
            };
            responses: {
                /** @description Any 2xx: delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Gone: no more attempts */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "image.generation.failed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The generation failed: sent to its webhook_url
         * @description Retried on WEBHOOK_RETRY_SCHEDULE until a 2xx; a 410 Gone stops the retries.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["GenerationEvent"];
                };
            };
            responses: {
                /** @description Any 2xx: delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Gone: no more attempts */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "image.generation.canceled": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The generation canceled: sent to its webhook_url
         * @description Retried on WEBHOOK_RETRY_SCHEDULE until a 2xx; a 410 Gone stops the retries.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["GenerationEvent"];
                };
            };
            responses: {
                /** @description Any 2xx: delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Gone: no more attempts */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        /** @description Any JSON value */
        JsonValueInput: unknown;
        /**
         * @example {
         *       "id": "gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f",
         *       "object": "image.generation",
         *       "status": "succeeded",
         *       "created_at": "2026-01-05T10:00:00.000Z",
         *       "updated_at": "2026-01-05T10:00:09.512Z",
         *       "started_at": "2026-01-05T10:00:00.120Z",
         *       "completed_at": "2026-01-05T10:00:09.512Z",
         *       "next_attempt_at": null,
         *       "attempts": 1,
         *       "request": {
         *         "model": "cogview-4-250304",
         *         "prompt": "a red bicycle leaning on a wall",
         *         "quality": "standard",
         *         "size": "1024x1024"
         *       },
         *       "webhook_url": null,
         *       "metadata": {
         *         "order": "A-1001"
         *       },
         *       "result": {
         *         "url": "https://images.example.com/darkroom/gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f.png",
         *         "bucket": "darkroom",
         *         "key": "gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f.png",
         *         "sha256": "a3f1c9e07b2d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef",
         *         "bytes": 1482311,
         *         "content_type": "image/png",
         *         "width": 1024,
         *         "height": 1024
         *       },
         *       "created": 1767607208,
         *       "content_filter": [
         *         {
         *           "role": "assistant",
         *           "level": 3
         *         }
         *       ],
         *       "error": null
         *     }
         * @example {
         *       "id": "gen_7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d",
         *       "object": "image.generation",
         *       "status": "queued",
         *       "created_at": "2026-01-05T10:00:00.000Z",
         *       "updated_at": "2026-01-05T10:00:00.000Z",
         *       "started_at": null,
         *       "completed_at": null,
         *       "next_attempt_at": null,
         *       "attempts": 0,
         *       "request": {
         *         "model": "cogview-4-250304",
         *         "prompt": "a lighthouse at dusk",
         *         "quality": "hd",
         *         "size": "1440x720"
         *       },
         *       "webhook_url": "https://example.com/hooks/darkroom",
         *       "metadata": null,
         *       "result": null,
         *       "created": null,
         *       "content_filter": null,
         *       "error": null
         *     }
         */
        Generation: {
            id: string;
            /** @constant */
            object: "image.generation";
            /** @enum {string} */
            status: "queued" | "generating" | "storing" | "succeeded" | "failed" | "canceled";
            created_at: string | null;
            updated_at: string | null;
            started_at: string | null;
            completed_at: string | null;
            /** @description After a failed copy of the image, until the job ends: when the copy is tried again */
            next_attempt_at: string | null;
            attempts: number;
            /** @description The Z.AI request, normalised: defaults filled in, the model lower-cased */
            request: {
                /** @example cogview-4-250304 */
                model: string;
                prompt: string;
                /** @enum {string} */
                quality: "hd" | "standard";
                size: string;
                user_id?: string;
            };
            webhook_url: string | null;
            metadata: {
                [key: string]: unknown;
            } | null;
            /** @description Set once status is succeeded */
            result: {
                /** @description A presigned (or public) URL of the stored image */
                url: string;
                bucket: string;
                key: string;
                sha256: string;
                bytes: number;
                content_type: string;
                width: number;
                height: number;
            } | null;
            /** @description Z.AI's `created` (Unix seconds) of the paid generation */
            created: number | null;
            content_filter: {
                role: string;
                level: number;
            }[] | null;
            /** @description Set once status is failed */
            error: {
                code: string;
                message: string;
            } | null;
            batch_id?: string;
        };
        /** @description Signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature headers) with the tenant webhook secret */
        GenerationEvent: {
            /** @enum {string} */
            type: "image.generation.succeeded" | "image.generation.failed" | "image.generation.canceled";
            /**
             * Format: date-time
             * @description When the job ended
             */
            timestamp: string;
            data: components["schemas"]["Generation"];
        };
        /**
         * @example {
         *       "error": {
         *         "code": "validation_error",
         *         "message": "invalid request: size width must be divisible by 16 (got 1000)",
         *         "details": [
         *           {
         *             "field": "size",
         *             "message": "width must be divisible by 16 (got 1000)"
         *           }
         *         ]
         *       }
         *     }
         * @example {
         *       "error": {
         *         "code": "not_found",
         *         "message": "no generation gen_00000000000000000000000000000000"
         *       }
         *     }
         */
        Error: {
            error: {
                /**
                 * @description Stable and machine-readable; the HTTP status follows from it
                 * @enum {string}
                 */
                code: "validation_error" | "invalid_json" | "unauthorized" | "forbidden" | "not_found" | "payload_too_large" | "unsupported_media_type" | "conflict" | "idempotency_conflict" | "too_many_unfinished" | "rate_limited" | "service_unavailable" | "queue_full" | "internal_error";
                message: string;
                /** @description For validation_error: every offending field at once */
                details?: {
                    /** @description The offending field, `(body)` for the body as a whole, or a header name */
                    field: string;
                    message: string;
                }[];
            };
        };
        /**
         * @example {
         *       "id": "gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f",
         *       "webhook": {
         *         "event": "image.generation.succeeded",
         *         "webhook_id": "msg_gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f_succeeded",
         *         "status": "delivered",
         *         "attempts": 2,
         *         "last_status_code": 200
         *       },
         *       "deliveries": [
         *         {
         *           "attempt": 1,
         *           "webhook_id": "msg_gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f_succeeded",
         *           "at": "2026-01-05T10:00:09.600Z",
         *           "status_code": 503,
         *           "ms": 12,
         *           "error": "HTTP 503",
         *           "ok": false
         *         },
         *         {
         *           "attempt": 2,
         *           "webhook_id": "msg_gen_0f8c2a7e5b1d4c3a9e6f7a8b9c0d1e2f_succeeded",
         *           "at": "2026-01-05T10:00:14.650Z",
         *           "status_code": 200,
         *           "ms": 41,
         *           "error": null,
         *           "ok": true
         *         }
         *       ]
         *     }
         */
        Deliveries: {
            id: string;
            /** @description null when the generation has no webhook_url */
            webhook: {
                /** @enum {string} */
                event: "image.generation.succeeded" | "image.generation.failed" | "image.generation.canceled" | "batch.completed";
                webhook_id: string;
                /** @enum {string} */
                status: "pending" | "delivered" | "failed";
                attempts: number;
                last_status_code?: number;
                last_error?: string;
            } | null;
            /** @description Every attempt, oldest first */
            deliveries: {
                attempt: number;
                webhook_id: string;
                /** @description When the attempt started (ISO 8601) */
                at: string;
                /** @description The receiver's HTTP status; null when none came */
                status_code: number | null;
                ms: number;
                error: string | null;
                ok: boolean;
            }[];
        };
        /**
         * @example {
         *       "status": "ready",
         *       "checks": {
         *         "redis": "ok",
         *         "s3": "ok"
         *       },
         *       "generation": {
         *         "paused": false
         *       },
         *       "zai": {
         *         "concurrency": {
         *           "ceiling": 8,
         *           "cap": 8,
         *           "discovered_limit": null,
         *           "in_flight": 2,
         *           "refusals_per_minute": 0
         *         },
         *         "rate": {
         *           "ceiling": null,
         *           "rps": null,
         *           "refusals_per_minute": 0
         *         }
         *       }
         *     }
         */
        Readiness: {
            /**
             * @description degraded: generation is paused fleet-wide, requests are still queued
             * @enum {string}
             */
            status: "ready" | "degraded" | "unavailable";
            checks: {
                /** @description "ok", or "error: " and why */
                redis: string;
                /** @description "ok", or "error: " and why */
                s3: string;
            };
            generation: {
                paused: boolean;
                reason?: {
                    code: string;
                    message: string;
                };
                since?: string;
                resume_at?: string | null;
            };
            /** @description The adaptive Z.AI limits; null until a worker has started */
            zai: {
                concurrency: {
                    ceiling: number;
                    cap: number | null;
                    discovered_limit: number | null;
                    in_flight: number | null;
                    refusals_per_minute: number | null;
                };
                rate: {
                    ceiling: number | null;
                    rps: number | null;
                    refusals_per_minute: number | null;
                };
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
