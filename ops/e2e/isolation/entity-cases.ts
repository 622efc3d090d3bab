import type { SubgraphName } from '@beedesk/schema';
import type { Role, Caller } from '@beedesk/runtime';
import type { World } from './world';

/**
 * `_entities` called straight on a subgraph, as the gateway would: one row per entity type a
 * subgraph resolves. A caller of B (any role) or A's other customer asking for A's
 * representations must get null or a placeholder without A's data; A's owner gets the data (the
 * control that proves the call could see it).
 */
export interface EntityCase {
  /** `session.Session`: subgraph and type. */
  entity: string;
  subgraph: SubgraphName;
  selection: string;
  representations: (world: World) => Record<string, unknown>[];
  /** Who in A may see these entities. */
  owner: (world: World) => Omit<Caller, 'requestId'>;
  /** Whether mallory (another customer of A) is to be refused them (her own tenant's shared data is not). */
  privateToOwner: boolean;
}

const staffOfA = (world: World, role: Role = 'admin') => ({ tenantId: world.a.id, userId: 'admin', roles: [role] });
const aliceOfA = (world: World) => ({ tenantId: world.a.id, userId: world.sharedUserId, roles: ['customer' as Role] });

export const ENTITY_CASES: EntityCase[] = [
  {
    entity: 'tenant.Tenant',
    subgraph: 'tenant',
    selection: '... on Tenant { id name answerConfidenceThreshold articles { id title body questions } }',
    representations: (w) => [{ __typename: 'Tenant', id: w.a.id }],
    owner: (w) => staffOfA(w),
    privateToOwner: false,
  },
  {
    entity: 'tenant.Article',
    subgraph: 'tenant',
    selection: '... on Article { id title body questions locale updatedAt }',
    representations: (w) => [...w.a.articleTitles.keys()].map((id) => ({ __typename: 'Article', id })),
    owner: (w) => staffOfA(w),
    privateToOwner: false,
  },
  {
    entity: 'session.Session',
    subgraph: 'session',
    selection: '... on Session { id userId status startedAt turns { seq role text answerId } }',
    representations: (w) => [{ __typename: 'Session', id: w.a.aliceSessionId }],
    owner: aliceOfA,
    privateToOwner: true,
  },
  {
    entity: 'answer.Answer',
    subgraph: 'answer',
    selection: '... on Answer { id sessionId question text status confidence sources { id } session { id } }',
    representations: (w) => [{ __typename: 'Answer', id: w.a.aliceAnswerId }],
    owner: aliceOfA,
    privateToOwner: true,
  },
  {
    entity: 'handoff.Session',
    subgraph: 'handoff',
    selection: '... on Session { id handoff { state reason since waitingPosition agentName agentTyping agentsAvailable } }',
    // carol's conversation is with A's agent: the display name is the planted data customers may see.
    representations: (w) => [{ __typename: 'Session', id: w.a.carolSessionId }],
    owner: (w) => ({ tenantId: w.a.id, userId: 'carol', roles: ['customer' as Role] }),
    privateToOwner: true,
  },
];

export const entitiesQuery = (selection: string): string =>
  `query($representations: [_Any!]!) { _entities(representations: $representations) { ${selection} } }`;
