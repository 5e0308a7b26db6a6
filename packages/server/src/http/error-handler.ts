import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseBusy, isDatabaseUnavailable } from '../db/errors.js';
import { AppError, ERROR_CATALOG, type ErrorBody, type ErrorCode } from '../errors.js';

/** Fastify's own error codes, mapped onto the catalog. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_ERROR',
  FST_ERR_VALIDATION: 'VALIDATION_ERROR',
  FST_ERR_BAD_URL: 'VALIDATION_ERROR',
};

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const details = err.validation.map((v) => ({
      path: `${err.validationContext ?? ''}${v.instancePath.replace(/\//g, '.')}`,
      message: v.message ?? 'invalid',
    }));
    // A key that breaks the pattern gets its own code: the most common mistake, worth naming.
    const onlyKey = details.length > 0 && details.every((d) => /^(params|body)\.key$/.test(d.path));
    return onlyKey
      ? new AppError('INVALID_FLAG_KEY', undefined, details)
      : new AppError('VALIDATION_ERROR', `Invalid ${err.validationContext ?? 'request'}: ${details[0]?.path ?? ''} ${details[0]?.message ?? ''}`.trim(), details);
  }
  const fe = err as Partial<FastifyError> & { statusCode?: number };
  if (fe.statusCode === 429 || (fe as { code?: string }).code === 'RATE_LIMITED') return new AppError('RATE_LIMITED');
  if (fe.code && FASTIFY_CODES[fe.code]) return new AppError(FASTIFY_CODES[fe.code]!, fe.message);
  if (fe.code === 'insufficient_privilege' || fe.code === '42501') return new AppError('INTERNAL_ERROR');
  if (isDatabaseBusy(err)) return new AppError('DATABASE_BUSY');
  if (isDatabaseUnavailable(err)) return new AppError('DATABASE_UNAVAILABLE');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError('VALIDATION_ERROR', fe.message);
  }
  return new AppError('INTERNAL_ERROR');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  const body: ErrorBody = {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
      requestId: request.id,
    },
  };
  // Errors raised before the hooks ran (a malformed URL) still carry the request id.
  reply.header('x-request-id', request.id);
  const entry = ERROR_CATALOG[err.code];
  if ('retryAfterS' in entry) reply.header('retry-after', String(entry.retryAfterS));
  return reply.code(err.status).type('application/json').send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const appError = toAppError(err);
    if (appError.status >= 500) request.log.error({ err, reqId: request.id }, 'request failed');
    return sendError(request, reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new AppError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );
}

