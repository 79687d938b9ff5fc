import { ConsoleLogger, LogLevel } from '@nestjs/common';

/** Nest's start-up chatter (module and route listings) is shown only at debug level. */
const FRAMEWORK_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
  'NestMicroservice',
  'Server',
  'ClientProxy',
]);

export class QuietFrameworkLogger extends ConsoleLogger {
  constructor(
    private readonly showFramework: boolean,
    levels: LogLevel[],
    json = false,
  ) {
    super(
      'Sealpost',
      json ? { logLevels: levels, json: true } : { logLevels: levels, colors: !process.env.NO_COLOR && Boolean(process.stdout.isTTY) },
    );
  }

  override log(message: unknown, context?: string): void {
    if (!this.showFramework && context && FRAMEWORK_CONTEXTS.has(context)) return;
    super.log(message, context);
  }
}
