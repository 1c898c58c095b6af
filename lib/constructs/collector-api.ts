import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { IDeliveryStreamRef } from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { z } from 'zod';
import type { CollectorEnv } from '../../functions/collector/env';
import { COLLECTOR_TIMEOUT_SECONDS } from '../../functions/collector/timing';
import { COLLECTOR_ALLOWED_HEADERS, COLLECTOR_ALLOWED_METHODS } from '../../src/core/collector/cors';
import type { CollectorLimits } from '../../src/core/config/limits';
import type { SourcesConfig } from '../../src/core/config/sources';
import { CALL_TYPES } from '../../src/core/events/stream-record';
import { MosaicFunction } from './mosaic-function';

/** The collector Lambda's environment variable names (defined by `functions/collector/env.ts`). */
type CollectorEnvName = keyof z.input<typeof CollectorEnv>;

/** Segment's call types plus `batch`; each also has the one-letter form browser SDKs use (`/v1/t`). */
const CALLS = [...CALL_TYPES, 'batch'] as const;

/** The 14 collector paths: `/v1/track` ... `/v1/batch` and `/v1/t` ... `/v1/b`. */
export const COLLECTOR_PATHS: readonly string[] = CALLS.flatMap((call) => [`/v1/${call}`, `/v1/${call[0]}`]);

/**
 * What browser SDKs ask for besides the calls, each answered by the collector function:
 * analytics.js 2.0's settings and RudderStack's source config (which it asks for as `/sourceConfig/`:
 * an HTTP API route cannot end with `/`, so a greedy route takes that form), and RudderStack's beacon
 * batches (`navigator.sendBeacon`).
 */
export const BROWSER_SDK_ROUTES: readonly { readonly method: 'GET' | 'POST'; readonly path: string }[] = [
  { method: 'GET', path: '/v1/projects/{writeKey}/settings' },
  { method: 'GET', path: '/sourceConfig' },
  { method: 'GET', path: '/sourceConfig/{proxy+}' },
  { method: 'POST', path: '/beacon/v1/batch' },
];

/** Fields of each access log line (JSON). No source IP or user agent: logs hold no personal data. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  requestLength: '$context.requestLength',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
  errorType: '$context.error.responseType',
};

/** Lambda allows 4 KB of environment in all; the rest is left for names of resources and defaults. */
const MAX_CONFIG_ENV_BYTES = 3500;

export interface CollectorApiProps {
  /** Where accepted messages are written. */
  readonly eventStream: kinesis.IStream;
  /** Where rejected messages are written (Direct PUT). */
  readonly quarantineDeliveryStream: IDeliveryStreamRef;
  /** Sources and their write-key hashes; the function authenticates requests with them. */
  readonly sources: SourcesConfig;
  readonly limits: CollectorLimits;
  /** Stage-wide API Gateway throttling. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Retention of the function's and the access logs' log groups. */
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Where the collector's alarms notify. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * The Segment-compatible collector: an HTTP API with `POST /v1/{track,identify,page,screen,group,alias,batch}`
 * and their one-letter forms, plus what browser SDKs need around them (`BROWSER_SDK_ROUTES`: their
 * settings, RudderStack's beacon batches), CORS open to any origin (browsers send events from any
 * site), stage-wide throttling and JSON access logs, all routed to the collector function.
 *
 * The routes have no API Gateway authorizer on purpose: SDKs authenticate with the source's write key
 * (HTTP Basic username, `writeKey` in the body, or in the path or query string where an SDK puts it
 * there), which the function checks against the configured key hashes, answering 401 (404 for
 * analytics.js's settings) to unknown keys.
 *
 * Alarms (to the alarm topic) tell when SDKs are being turned away: the function failing or being
 * throttled, the API answering 5xx (whatever the cause, API Gateway's own included), and the events
 * stream throttling the collector's writes for minutes on end, which ends in 503s once the
 * collector's retries run out.
 */
export class CollectorApi extends Construct {
  /** The HTTP API; the Profile API adds its routes to it (same URL, same stage and access logs). */
  public readonly api: apigw.HttpApi;
  /** The 14 collector routes and the browser SDK routes (no API Gateway authorizer, see above). */
  public readonly routes: readonly apigw.HttpRoute[];
  public readonly stage: apigw.HttpStage;
  public readonly function: MosaicFunction;
  public readonly accessLogGroup: logs.ILogGroup;
  /** Base URL of the collector (`https://{api}.execute-api.{region}.amazonaws.com/`). */
  public readonly url: string;
  /** The function crashed, timed out or ran out of memory: the request got a 5xx. */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** Lambda refused to run the function (concurrency exhausted): the request got a 5xx. */
  public readonly throttlesAlarm: cloudwatch.Alarm;
  /** The HTTP API answered 5xx (collector, the admin APIs on the same API, or API Gateway itself). */
  public readonly serverErrorsAlarm: cloudwatch.Alarm;
  /** The events stream throttled writes in 3 of 5 minutes: traffic is outgrowing its capacity. */
  public readonly streamThrottlingAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: CollectorApiProps) {
    super(scope, id);

    // Labels are notes for people; the function needs names, key hashes and revocations only.
    const sources = props.sources.map(({ name, keys }) => ({
      name,
      keys: keys.map(({ sha256, revoked }) => ({ sha256, revoked })),
    }));
    const config: Partial<Record<CollectorEnvName, string>> = {
      MOSAIC_SOURCES: JSON.stringify(sources),
      MOSAIC_LIMITS: JSON.stringify(props.limits),
    };
    const configBytes = Object.entries(config).reduce((sum, [k, v]) => sum + k.length + (v?.length ?? 0), 0);
    if (configBytes > MAX_CONFIG_ENV_BYTES) {
      throw new Error(
        `The sources configuration is too large for the collector's environment (${configBytes} bytes, at most ${MAX_CONFIG_ENV_BYTES}; Lambda allows 4 KB of variables in all): remove unused sources and revoked keys.`,
      );
    }
    this.function = new MosaicFunction(this, 'Function', {
      entry: 'functions/collector/index.ts',
      handler: 'handler',
      description: 'Mosaic collector: Segment HTTP Tracking API → events stream',
      serviceName: 'collector',
      memorySize: 1024,
      timeout: Duration.seconds(COLLECTOR_TIMEOUT_SECONDS),
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      environment: config,
    });
    this.function.bindStreamWriter(props.eventStream, 'EVENT_STREAM_NAME' satisfies CollectorEnvName);
    this.function.bindDeliveryStreamWriter(
      props.quarantineDeliveryStream,
      'QUARANTINE_DELIVERY_STREAM_NAME' satisfies CollectorEnvName,
    );
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations. A failed request returns 5xx and the SDK retries it.',
    });

    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-collector`,
      description: 'Mosaic collector (Segment HTTP Tracking API)',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: COLLECTOR_ALLOWED_METHODS.map((method) => apigw.CorsHttpMethod[method]),
        allowHeaders: [...COLLECTOR_ALLOWED_HEADERS],
        maxAge: Duration.days(1),
      },
    });
    const integration = new HttpLambdaIntegration('Collector', this.function.function, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    // The routes have no API Gateway authorizer: SDKs send the write key in ways an authorizer cannot
    // check without breaking the protocol (see the class comment). The acknowledgement is on these
    // routes only, so any other route of the API without an authorizer still fails cdk-nag.
    const routes = [
      ...COLLECTOR_PATHS.flatMap((path) =>
        this.api.addRoutes({ path, methods: [apigw.HttpMethod.POST], integration }),
      ),
      ...BROWSER_SDK_ROUTES.flatMap(({ method, path }) =>
        this.api.addRoutes({ path, methods: [apigw.HttpMethod[method]], integration }),
      ),
    ];
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Segment-compatible collector: SDKs authenticate with the source write key (HTTP Basic username, writeKey in the body, or in the path or query string where a browser SDK puts it), which the collector function checks against the configured SHA-256 key hashes and refuses unknown keys. An API Gateway authorizer cannot check it without breaking the SDK protocol.',
      });
    }
    this.routes = routes;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.url = this.stage.url;

    const alarmAction = new cloudwatchActions.SnsAction(props.alarmTopic);
    const fn = this.function.function;
    const fiveMinuteSum = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    // Every alarm here counts failures: no requests or no writes, no datapoints, nothing wrong.
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription:
        'The collector function failed (threw, timed out or ran out of memory): its requests got a 5xx and SDKs retry them. Its logs say why.',
      metric: fn.metricErrors(fiveMinuteSum),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.throttlesAlarm = new cloudwatch.Alarm(this, 'ThrottlesAlarm', {
      alarmDescription:
        "Lambda throttled the collector function (the account's or region's concurrency is used up): those requests got a 5xx. Raise the concurrency quota or find what else uses it.",
      metric: fn.metricThrottles(fiveMinuteSum),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.serverErrorsAlarm = new cloudwatch.Alarm(this, 'ServerErrorsAlarm', {
      alarmDescription:
        'The collector HTTP API answered 5xx: SDKs had events refused and retry them (503: the events stream or the quarantine could not take them after retries; 500/502: a function failed or API Gateway could not invoke it). The same API serves the Profile, Segments and Destinations APIs; its access logs name the route and the error.',
      metric: this.stage.metricServerError(fiveMinuteSum),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The collector retries throttled records for about two seconds before answering 503, so a brief
    // throttle costs nothing; throttling in most minutes means on-demand capacity is not keeping up.
    this.streamThrottlingAlarm = new cloudwatch.Alarm(this, 'StreamThrottlingAlarm', {
      alarmDescription:
        "The events stream throttled the collector's writes in 3 of the last 5 minutes: traffic rose past twice its previous peak faster than on-demand capacity adapts, or the stream reached its on-demand write limit (a quota that can be raised). Requests whose retries run out get 503 (SDKs retry).",
      metric: props.eventStream.metricWriteProvisionedThroughputExceeded({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [
      this.errorsAlarm,
      this.throttlesAlarm,
      this.serverErrorsAlarm,
      this.streamThrottlingAlarm,
    ]) {
      alarm.addAlarmAction(alarmAction);
      alarm.addOkAction(alarmAction);
    }
  }
}
