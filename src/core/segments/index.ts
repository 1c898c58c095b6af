/** Segments: the rule language, its AST, and the SQL it compiles to (Athena and DuckDB). Pure, no I/O. */
export type * from './ast';
export {
  type CompileOptions,
  compileSegment,
  MAX_CHILDREN,
  MAX_DEPTH,
  MAX_LEAVES,
  type SegmentLookup,
} from './compile';
export { SegmentDefinition } from './definition';
export { ATHENA, DIALECTS, type Dialect, type DialectName, DUCKDB } from './dialects';
export { InvalidSegmentError, type SegmentIssue } from './errors';
export {
  athenaUnload,
  audienceColumns,
  EXPORT_ID,
  EXPORT_MEMBER_COLUMNS,
  type ExportPlan,
  type ExportPlanOptions,
  type ExportPlanRequest,
  exportFolder,
  planExport,
} from './export-plan';
export {
  athenaExecutionParameters,
  type BindOptions,
  type BoundValue,
  bindParams,
  DEFAULT_PARTITION_SLACK_MS,
  type QueryParam,
} from './params';
export {
  type AudienceColumn,
  type CompiledQuery,
  type LakeTables,
  MAX_AUDIENCE_COLUMNS,
  PREVIEW_SAMPLE_SIZE,
  type PrintOptions,
  printAudienceQuery,
  printMembersQuery,
  printPreviewQuery,
  type TableName,
} from './print-sql';
export {
  evaluateMembers,
  type ReferenceEventRow,
  type ReferenceInput,
  type ReferenceLinkRow,
} from './reference-evaluator';
