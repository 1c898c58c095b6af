/**
 * Something the reducers trimmed or refused, so that a profile stays bounded. Never an error: the event
 * is still applied. For metrics and logs; `detail` names a trait or a bound, never a value.
 */
export type ProfileWarningCode =
  | 'invalid_timestamp'
  | 'trait_key_refused'
  | 'trait_key_too_long'
  | 'trait_value_cut'
  | 'trait_value_too_large'
  | 'traits_trimmed'
  | 'consent_trimmed'
  | 'event_name_cut'
  | 'event_names_folded'
  | 'group_id_too_long'
  | 'groups_trimmed'
  | 'merged_from_trimmed';

export interface ProfileWarning {
  readonly code: ProfileWarningCode;
  readonly detail?: string;
}
