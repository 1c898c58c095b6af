import { BadRequestError } from '../errors';

/** One thing wrong with a definition: the JSON path of the bad node and what is wrong with it. */
export interface SegmentIssue {
  /** `definition.all[2].event.where[0].op` */
  readonly path: string;
  readonly message: string;
}

/** A segment definition that cannot be compiled; the message lists every issue as `path: message`. */
export class InvalidSegmentError extends BadRequestError {
  readonly issues: readonly SegmentIssue[];
  constructor(issues: readonly SegmentIssue[]) {
    super(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), { code: 'invalid_segment' });
    this.issues = issues;
  }
}
