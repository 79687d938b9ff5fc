export {
  ApiError,
  unauthorized,
  notFound,
  tooManyRequests,
  assertWithinRate,
  unavailable,
  UNAVAILABLE_RETRY_AFTER_SECONDS,
} from './api-error';
export { ApiErrorFilter } from './api-error.filter';
export { createHttpApp, listeningUrl } from './http-app.factory';
export type { HttpAppOptions } from './http-app.factory';
export { runService, dependencyProblems, START_POSTGRES_HINT, START_REDIS_HINT } from './service-runner';
export { HealthController } from './health.controller';
export { HEALTH_OPTIONS, healthOptionsProvider, withinMs } from './readiness';
export type { HealthOptions, ReadinessCheck } from './readiness';
export { errorAnswer, busErrorFrom } from './error-answer';
export type { ErrorAnswer } from './error-answer';
export { ServiceMetrics, MetricsController, installHttpMetrics, installDependencyMetrics } from './service-metrics';
export { FRAMEWORK_ANSWERS, INVALID_JSON, frameworkAnswer, answerOnSocket } from './framework-answers';
export type { FrameworkAnswer } from './framework-answers';
export { RequestsPerClient, requestsPerClientOf, IN_FLIGHT_RETRY_AFTER_SECONDS } from './requests-per-client';
export { chargeMalformedRequest } from './malformed-request-penalty';
export { answerEarly } from './early-answer';
