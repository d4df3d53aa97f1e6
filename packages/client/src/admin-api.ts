/**
 * Generated from the API's /admin/openapi.json by `pnpm client:generate`: do not edit.
 */

export interface paths {
    "/admin/v1/fleet": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether the fleet is paused or draining, and why */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The fleet */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            paused: boolean;
                            reason: components["schemas"]["PauseState"] | null;
                            draining: boolean;
                            drain: components["schemas"]["DrainState"] | null;
                            /** @description Draining and no job active: safe to stop the workers */
                            drained: boolean;
                            /** @description Jobs BullMQ holds as active, per queue, fleet-wide */
                            active: {
                                [key: string]: number;
                            };
                        };
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
    "/admin/fleet": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Whether the fleet is paused or draining, and why
         * @deprecated
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The fleet */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            paused: boolean;
                            reason: components["schemas"]["PauseState"] | null;
                            draining: boolean;
                            drain: components["schemas"]["DrainState"] | null;
                            /** @description Draining and no job active: safe to stop the workers */
                            drained: boolean;
                            /** @description Jobs BullMQ holds as active, per queue, fleet-wide */
                            active: {
                                [key: string]: number;
                            };
                        };
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
    "/admin/v1/fleet/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Pause generation fleet-wide (jobs stay queued); only a resume lifts it */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description Why: shown in /readyz, /admin/v1/fleet and logs
                         * @example Z.AI maintenance window
                         */
                        reason: string;
                    };
                };
            };
            responses: {
                /** @description Paused */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            paused: true;
                            reason: components["schemas"]["PauseState"];
                        };
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
    "/admin/fleet/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Pause generation fleet-wide (jobs stay queued); only a resume lifts it
         * @deprecated
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
                    "application/json": {
                        /**
                         * @description Why: shown in /readyz, /admin/v1/fleet and logs
                         * @example Z.AI maintenance window
                         */
                        reason: string;
                    };
                };
            };
            responses: {
                /** @description Paused */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            paused: true;
                            reason: components["schemas"]["PauseState"];
                        };
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
    "/admin/v1/fleet/drain": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Drain: every worker stops taking jobs and finishes those it runs */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description Why: shown in /readyz, /admin/v1/fleet and logs
                         * @example Z.AI maintenance window
                         */
                        reason?: string;
                    };
                };
            };
            responses: {
                /** @description Draining */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            draining: true;
                            drain: components["schemas"]["DrainState"];
                            /** @description Jobs BullMQ holds as active, per queue, fleet-wide */
                            active: {
                                [key: string]: number;
                            };
                        };
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
    "/admin/v1/fleet/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Lift a pause (whatever set it) and a drain */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Resumed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            paused: false;
                            /** @enum {boolean} */
                            draining: false;
                            /** @description false when nothing was paused or draining */
                            resumed: boolean;
                            was: components["schemas"]["PauseState"] | null;
                            drain_was: components["schemas"]["DrainState"] | null;
                        };
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
    "/admin/fleet/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Lift a pause (whatever set it) and a drain
         * @deprecated
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Resumed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            paused: false;
                            /** @enum {boolean} */
                            draining: false;
                            /** @description false when nothing was paused or draining */
                            resumed: boolean;
                            was: components["schemas"]["PauseState"] | null;
                            drain_was: components["schemas"]["DrainState"] | null;
                        };
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
    "/admin/v1/generations/{id}/webhook/redeliver": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run a failed webhook delivery again */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Queued again */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            webhook_id: string;
                            /** @enum {string} */
                            status: "redelivering";
                        };
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
    "/admin/generations/{id}/webhook/redeliver": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run a failed webhook delivery again
         * @deprecated
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Queued again */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            webhook_id: string;
                            /** @enum {string} */
                            status: "redelivering";
                        };
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
    "/admin/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The audit trail of admin actions, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Entries */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            entries: ({
                                at: string;
                                /** @description The admin token's name, or cli */
                                admin: string;
                                action: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                        };
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
    "/admin/v1/tenants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every tenant and its keys (id, prefix, creation time) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Tenants */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            tenants: {
                                tenant: string;
                                created_at: string | null;
                                rate_limit: {
                                    per_second: number;
                                } | null;
                                previous_webhook_secret_valid_until: string | null;
                                keys: {
                                    id: string;
                                    prefix: string | null;
                                    created_at: string | null;
                                }[];
                            }[];
                        };
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
    "/admin/v1/tenants/{tenant}/keys/{key}/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Revoke one of a tenant's keys, by id or prefix */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    tenant: string;
                    /** @description The key id, or its prefix */
                    key: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revoked */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            tenant: string;
                            /** @enum {boolean} */
                            revoked: true;
                            key: {
                                id: string;
                                prefix: string | null;
                                created_at: string | null;
                            };
                        };
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
    "/admin/v1/tenants/{tenant}/webhook-secret/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rotate a tenant's webhook secret, the previous one still signing for grace_hours */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    tenant: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description How long the previous secret keeps signing deliveries as well
                         * @default 24
                         */
                        grace_hours?: number;
                    };
                };
            };
            responses: {
                /** @description The new secret */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            tenant: string;
                            webhook_secret: string;
                            previous_valid_until: string | null;
                        };
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
                /** @description Error: not_found */
                404: {
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
    "/admin/v1/tenants/{tenant}/rate-limit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Set or lift a tenant's request-rate limit (every replica together) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    tenant: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description null lifts the limit */
                        per_second: number | null;
                    };
                };
            };
            responses: {
                /** @description The limit */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            tenant: string;
                            rate_limit: {
                                per_second: number;
                            } | null;
                        };
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
                /** @description Error: not_found */
                404: {
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
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/generations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Search every tenant's generations, newest first
         * @description Filters: tenant, status, batch_id, error_code, stage, paid, created_after and created_before (epoch ms or ISO 8601, exclusive).
         */
        get: {
            parameters: {
                query?: {
                    status?: "queued" | "generating" | "storing" | "succeeded" | "failed" | "canceled";
                    batch_id?: string;
                    created_after?: number;
                    created_before?: number;
                    tenant?: string;
                    error_code?: string;
                    stage?: string;
                    paid?: boolean | ("true" | "false");
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
                        "application/json": components["schemas"]["AdminGenerationList"];
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
    "/admin/v1/generations/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Retry one generation
         * @description A saved Z.AI answer is copied again rather than paid for again. 409 when it cannot be retried (not failed, content filtered, …). Audited.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The generation id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default false */
                        resend_webhook?: boolean;
                    };
                };
            };
            responses: {
                /** @description What the retry does, and the generation now */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            retried: "store" | "generate" | "resend_webhook";
                            /**
                             * @description Only the job a crashed retry had left out was added
                             * @enum {boolean}
                             */
                            resumed?: true;
                            generation: components["schemas"]["AdminGeneration"] | null;
                        };
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
    "/admin/v1/retries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The bulk retries, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    before?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of retries */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            object: "list";
                            data: components["schemas"]["Retry"][];
                            /** @description Pass as `before` for the next page */
                            next_before: number | null;
                        };
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
         * Retry many generations (by ids or filter), or count what that would do
         * @description Give `ids` or `filter`. Run by the worker; audited.
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
                    "application/json": {
                        ids?: string[];
                        filter?: {
                            /** @enum {string} */
                            status?: "queued" | "generating" | "storing" | "succeeded" | "failed" | "canceled";
                            batch_id?: string;
                            created_after?: number;
                            created_before?: number;
                            tenant?: string;
                            error_code?: string;
                            stage?: string;
                            paid?: boolean | ("true" | "false");
                        };
                        /** @default false */
                        resend_webhook?: boolean;
                        /** @default false */
                        dry_run?: boolean;
                    };
                };
            };
            responses: {
                /** @description With dry_run: the counts */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            matched: number;
                            by_error_code: {
                                [key: string]: number;
                            };
                            by_stage: {
                                [key: string]: number;
                            };
                            /** @description Copy a saved answer again (store), call Z.AI again (generate, paid), re-send a webhook */
                            actions: {
                                store: number;
                                generate: number;
                                resend_webhook: number;
                            };
                            /** @description By reason */
                            skipped: {
                                [key: string]: number;
                            };
                            /** @description Of actions: jobs a crashed retry had reopened without a job, whose job would be added again */
                            resumed: number;
                            /** @description Generations whose retry needs a new paid Z.AI call */
                            new_paid_calls: number;
                            /** @enum {string} */
                            object: "retry.dry_run";
                        };
                    };
                };
                /** @description The retry, started (Location: its URL) */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Retry"];
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
    "/admin/v1/retries/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a bulk retry */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The retry id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The retry */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Retry"];
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
                /** @description Error: not_found */
                404: {
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
    "/admin/v1/retries/{id}/abort": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Abort a running bulk retry
         * @description Generations already retried stay retried. Audited.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The retry id */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The retry, aborted */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Retry"];
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
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
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
        /**
         * @example {
         *       "code": "manual",
         *       "message": "Z.AI maintenance window",
         *       "since": 1767607200000,
         *       "manual": true
         *     }
         */
        PauseState: {
            code: string;
            message: string;
            since: number;
            resumeAt?: number;
            manual?: boolean;
            probeMs?: number;
            canary?: number;
        };
        /**
         * @example {
         *       "since": 1767607200000,
         *       "reason": "deploy",
         *       "by": "ops"
         *     }
         */
        DrainState: {
            since: number;
            reason?: string;
            by?: string;
        };
        AdminGeneration: {
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
            retries: number;
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
            tenant: string;
            /** @description Where it failed: generate, store, … */
            failed_stage: string | null;
            /** @description Z.AI answers paid for, over every round */
            paid_generations: number;
        };
        Retry: {
            id: string;
            /** @constant */
            object: "retry";
            /** @enum {string} */
            status: "running" | "completed" | "aborted";
            /** @description The admin token name that started it */
            who: string;
            created_at: string | null;
            updated_at: string | null;
            completed_at: string | null;
            ids: string[] | null;
            /** @description The filter as parsed (times in epoch ms) */
            filter: {
                [key: string]: unknown;
            } | null;
            resend_webhook: boolean;
            /** @description The dry-run counts of what it matched when it started */
            planned: {
                matched: number;
                by_error_code: {
                    [key: string]: number;
                };
                by_stage: {
                    [key: string]: number;
                };
                /** @description Copy a saved answer again (store), call Z.AI again (generate, paid), re-send a webhook */
                actions: {
                    store: number;
                    generate: number;
                    resend_webhook: number;
                };
                /** @description By reason */
                skipped: {
                    [key: string]: number;
                };
                /** @description Of actions: jobs a crashed retry had reopened without a job, whose job would be added again */
                resumed: number;
                /** @description Generations whose retry needs a new paid Z.AI call */
                new_paid_calls: number;
            } | null;
            progress: {
                matched: number;
                done: number;
                retried: number;
                /** @description Of retried: jobs a crashed retry had reopened without a job, added again, or whose webhook it had re-sent without queueing the message, queued again */
                resumed: number;
                skipped: number;
                skipped_by_reason: {
                    [key: string]: number;
                };
                /** @description The dry-run counts (planned) are taken and the walk has begun */
                snapshotted: boolean;
            };
        };
        AdminGenerationList: {
            /** @constant */
            object: "list";
            data: components["schemas"]["AdminGeneration"][];
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
