export { fileStorage, readBootstrap } from './storage.js';
export {
  excludeCurrentRequest,
  type FeatureDisabledBody,
  type GateOptions,
  type MiddlewareOptions,
} from './request-scope.js';
export { gate, rampartFastify, type FastifyHookLike, type FastifyInstanceLike, type FastifyReplyLike, type FastifyRequestLike, type RampartFastifyPlugin } from './fastify.js';
export { gateExpress, rampartExpress, type ExpressMiddleware, type NextFunctionLike } from './express.js';
export { flagsHandler, type FlagsHandlerOptions, type FlagsResponse } from './flags-handler.js';
