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
        /**
         * The tenant's generations, newest first
         * @description Filters: status, batch_id, created_after and created_before (epoch ms or ISO 8601, exclusive).
         */
        get: {
            parameters: {
                query?: {
                    status?: "queued" | "generating" | "storing" | "succeeded" | "failed" | "canceled";
                    batch_id?: string;
                    created_after?: number;
                    created_before?: number;
                    /** @description A next_cursor from an earlier page */
                    cursor?: string;
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of generations */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenerationList"];
                    };
                };
                /** @description Error: validation_error */
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
                        /** @description Not started by then, the generation is canceled (`expired`); never sent to Z.AI. An RFC 3339 time, or whole seconds from now (0 to 2592000) */
                        cancel_after?: number | string;
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
                /** @description Error: rate_limited or too_many_unfinished or quota_exceeded */
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
    "/v1/images/generations/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a queued generation
         * @description Only a generation that has not started (status queued) can be canceled (409 otherwise): nothing was paid for it.
         */
        post: {
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
                /** @description The generation, now canceled */
                200: {
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
                /** @description Error: not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: conflict */
                409: {
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
    "/v1/batches": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tenant's batches, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    /** @description A next_cursor from an earlier page */
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of batches */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BatchList"];
                    };
                };
                /** @description Error: validation_error */
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
        /**
         * Submit a batch of generations
         * @description As JSON (`requests` and the options), or as a JSONL upload (application/x-ndjson: one request per line, the options as query parameters). Every request is checked first: one bad request refuses the whole batch (400, every bad line named). Answers 202 once every item is queued.
         */
        post: {
            parameters: {
                query?: {
                    webhook_url?: string;
                    metadata?: string;
                    cancel_after?: number | string;
                    item_webhooks?: "true" | "false";
                };
                header?: {
                    /** @description A repeat with the same key (and body) returns the same batch */
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Generation requests, each with an optional custom_id (1–64 characters, unique in the batch) */
                        requests: {
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
                            /** @description Not started by then, the generation is canceled (`expired`); never sent to Z.AI. An RFC 3339 time, or whole seconds from now (0 to 2592000) */
                            cancel_after?: number | string;
                            custom_id?: string;
                        }[];
                        webhook_url?: string;
                        metadata?: {
                            [key: string]: components["schemas"]["JsonValueInput"];
                        };
                        cancel_after?: number | string;
                        item_webhooks?: boolean;
                    };
                    "application/x-ndjson": string;
                };
            };
            responses: {
                /** @description The batch, queued (with a known Idempotency-Key: the batch that key created, Idempotent-Replayed: true) */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Batch"];
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
                /** @description Error: rate_limited or quota_exceeded */
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
    "/v1/batches/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a batch */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /**
                     * @description The batch id: batch_ and 32 hex digits
                     * @example batch_5b0c3d6e0f0a4a51a4bba9c54b3f6a12
                     */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The batch */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Batch"];
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
    "/v1/batches/{id}/items": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A batch's items in input order */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    /** @description A next_cursor from an earlier page */
                    cursor?: string;
                    /** @description Only the items in this status */
                    status?: "queued" | "generating" | "storing" | "succeeded" | "failed" | "canceled";
                };
                header?: never;
                path: {
                    /**
                     * @description The batch id: batch_ and 32 hex digits
                     * @example batch_5b0c3d6e0f0a4a51a4bba9c54b3f6a12
                     */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of items */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BatchItemList"];
                    };
                };
                /** @description Error: validation_error */
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
    "/v1/batches/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a batch
         * @description Items that have not called Z.AI are canceled (never paid); those already running finish. 409 once the batch has ended.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /**
                     * @description The batch id: batch_ and 32 hex digits
                     * @example batch_5b0c3d6e0f0a4a51a4bba9c54b3f6a12
                     */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The batch, canceling: its queued items are canceled, running ones finish */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Batch"];
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
                /** @description Error: not_found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Error: conflict */
                409: {
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
    "batch.completed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The batch ended (completed, canceled or expired): sent to its webhook_url
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
                    "application/json": components["schemas"]["BatchEvent"];
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
            /** @description Admin retries so far; absent when never retried */
            retries?: number;
            /** @description With retries: each earlier round as it ended, oldest first */
            history?: {
                /** @enum {string} */
                status: "queued" | "generating" | "storing" | "succeeded" | "failed" | "canceled";
                error: {
                    code: string;
                    message: string;
                } | null;
                failed_stage: string | null;
                /** @description Epoch ms */
                started_at: number | null;
                /** @description Epoch ms */
                completed_at: number | null;
                attempts: number;
                paid_generations: number;
                /** @description Epoch ms */
                retried_at: number;
                /** @description The admin token name that asked for the retry */
                retried_by: string;
            }[];
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
         *       "id": "batch_5b0c3d6e0f0a4a51a4bba9c54b3f6a12",
         *       "object": "batch",
         *       "status": "in_progress",
         *       "request_counts": {
         *         "total": 1000,
         *         "queued": 430,
         *         "running": 16,
         *         "succeeded": 550,
         *         "failed": 3,
         *         "canceled": 1
         *       },
         *       "created_at": "2026-01-05T10:00:00.000Z",
         *       "in_progress_at": "2026-01-05T10:00:01.200Z",
         *       "canceling_at": null,
         *       "finalizing_at": null,
         *       "completed_at": null,
         *       "cancel_after": null,
         *       "estimated_completion_at": "2026-01-05T10:01:20.000Z",
         *       "webhook_url": "https://example.com/hooks/darkroom",
         *       "item_webhooks": false,
         *       "metadata": {
         *         "campaign": "spring"
         *       },
         *       "results": null,
         *       "estimated_cost": null
         *     }
         */
        Batch: {
            id: string;
            /** @constant */
            object: "batch";
            /** @enum {string} */
            status: "validating" | "in_progress" | "finalizing" | "completed" | "canceling" | "canceled" | "expired";
            request_counts: {
                total: number;
                queued: number;
                running: number;
                succeeded: number;
                failed: number;
                canceled: number;
            };
            created_at: string | null;
            in_progress_at: string | null;
            canceling_at: string | null;
            finalizing_at: string | null;
            completed_at: string | null;
            /** @description Items that have not started by then are canceled, and the batch ends expired */
            cancel_after: string | null;
            /** @description While it runs, from its rate so far */
            estimated_completion_at: string | null;
            webhook_url: string | null;
            /** @description Every item sends its own image.generation.* event as well */
            item_webhooks: boolean;
            metadata: {
                [key: string]: unknown;
            } | null;
            /** @description The results file in S3, once the batch has ended */
            results: {
                bucket: string | null;
                key: string;
                bytes: number | null;
                /** @description A presigned (or public) URL of results.jsonl */
                url: string | null;
            } | null;
            /** @description With PRICE_PER_IMAGE set: what the batch costs at most */
            estimated_cost: {
                per_image: number;
                images: number;
                total: number;
            } | null;
        };
        /** @description Signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature headers) with the tenant webhook secret */
        BatchEvent: {
            /** @constant */
            type: "batch.completed";
            /**
             * Format: date-time
             * @description When the batch ended
             */
            timestamp: string;
            data: components["schemas"]["Batch"];
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
                code: "validation_error" | "invalid_json" | "unauthorized" | "forbidden" | "not_found" | "payload_too_large" | "unsupported_media_type" | "conflict" | "idempotency_conflict" | "too_many_unfinished" | "quota_exceeded" | "rate_limited" | "service_unavailable" | "queue_full" | "internal_error";
                message: string;
                /** @description For validation_error: every offending field at once */
                details?: {
                    /** @description A batch's request: its 1-based line (JSONL) or position (JSON `requests`) */
                    line?: number;
                    /** @description The offending field, `(body)` for the body as a whole, or a header name */
                    field: string;
                    message: string;
                }[];
                /** @description A refused batch: how many of its requests are invalid */
                bad_lines?: number;
                /**
                 * @description For quota_exceeded: the tenant quota that refused
                 * @enum {string}
                 */
                limit?: "max_waiting" | "daily_images";
                /** @description For quota_exceeded: where the tenant stands */
                current?: number;
                /** @description For quota_exceeded: the quota */
                max?: number;
            } & {
                [key: string]: unknown;
            };
        };
        GenerationList: {
            /** @constant */
            object: "list";
            data: components["schemas"]["Generation"][];
            has_more: boolean;
            /** @description Pass as `cursor` for the next page; null on the last */
            next_cursor: string | null;
        };
        BatchItem: {
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
            /** @description Admin retries so far; absent when never retried */
            retries?: number;
            /** @description With retries: each earlier round as it ended, oldest first */
            history?: {
                /** @enum {string} */
                status: "queued" | "generating" | "storing" | "succeeded" | "failed" | "canceled";
                error: {
                    code: string;
                    message: string;
                } | null;
                failed_stage: string | null;
                /** @description Epoch ms */
                started_at: number | null;
                /** @description Epoch ms */
                completed_at: number | null;
                attempts: number;
                paid_generations: number;
                /** @description Epoch ms */
                retried_at: number;
                /** @description The admin token name that asked for the retry */
                retried_by: string;
            }[];
            batch_id?: string;
            /** @description As given in the request */
            custom_id: string | null;
            /** @description Its 0-based place in the batch */
            batch_index: number | null;
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
        BatchList: {
            /** @constant */
            object: "list";
            data: components["schemas"]["Batch"][];
            has_more: boolean;
            /** @description Pass as `cursor` for the next page; null on the last */
            next_cursor: string | null;
        };
        BatchItemList: {
            /** @constant */
            object: "list";
            data: components["schemas"]["BatchItem"][];
            has_more: boolean;
            /** @description Pass as `cursor` for the next page; null on the last */
            next_cursor: string | null;
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
