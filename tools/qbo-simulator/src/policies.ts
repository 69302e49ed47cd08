/**
 * Behaviours where Intuit's own is not settled (qbo-api-facts §3, §5, §6.3, §2.1; sync-research §6): the
 * simulator picks one by default and serves the other on request, so a sync can be tested against both.
 */
export interface Policies {
  /** A merged-away name-list record: a CDC `Deleted` tombstone, or left inactive (`Active:false`). */
  mergeLoser: 'deleted' | 'inactive';
  /** Transactions re-pointed by a merge: new versions (SyncToken + 1, new LastUpdatedTime, Update events) or changed in place, unseen. */
  mergeRelink: 'touch' | 'silent';
  /** Entity URL segments: only Intuit's lower case (`/journalentry`), or any casing. */
  entityUrlCase: 'lowercase' | 'any';
  /** Past the 1,000 objects a batch response may hold: later query rows are cut, or the item that crosses it faults. */
  batchOverflow: 'truncate' | 'fault';
  /** 429 bodies: XML when the request's Accept asks for XML only, or XML always (as Intuit historically did). */
  throttleFormat: 'accept' | 'xml';
}

export const DEFAULT_POLICIES: Policies = {
  mergeLoser: 'deleted',
  mergeRelink: 'touch',
  entityUrlCase: 'lowercase',
  batchOverflow: 'truncate',
  throttleFormat: 'accept',
};
