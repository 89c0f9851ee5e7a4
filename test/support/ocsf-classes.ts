// JSON Schemas for the OCSF 1.3.0 classes Warden emits, transcribed from the class definitions
// in ocsf/ocsf-schema (events/<category>/<class>.json, base_event.json, objects/*.json): the
// required attributes, their types, the uid enumerations and the at-least-one constraints.

const int = { type: 'integer' } as const;

function klass(classUid: number, categoryUid: number, activities: number[], extra: { required: string[]; properties: Record<string, unknown> }) {
  return {
    type: 'object',
    required: ['activity_id', 'category_uid', 'class_uid', 'severity_id', 'time', 'type_uid', 'metadata', ...extra.required],
    properties: {
      class_uid: { const: classUid },
      category_uid: { const: categoryUid },
      activity_id: { enum: [0, ...activities, 99] },
      type_uid: { enum: [0, ...activities, 99].map((a) => classUid * 100 + a) },
      severity_id: { enum: [0, 1, 2, 3, 4, 5, 6, 99] },
      status_id: { enum: [0, 1, 2, 99] },
      time: int,
      message: { type: 'string' },
      metadata: {
        type: 'object',
        required: ['product', 'version'],
        properties: {
          version: { type: 'string', pattern: '^1\\.' },
          uid: { type: 'string' },
          logged_time: int,
          sequence: int,
          product: { type: 'object', required: ['vendor_name'], properties: { vendor_name: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' } } },
        },
      },
      unmapped: { type: 'object' },
      ...extra.properties,
    },
  };
}

const actor = {
  type: 'object',
  anyOf: ['process', 'user', 'invoked_by', 'session', 'app_name', 'app_uid', 'authorizations', 'idp'].map((k) => ({ required: [k] })),
  properties: { user: { type: 'object', anyOf: [{ required: ['uid'] }, { required: ['name'] }] }, app_name: { type: 'string' }, app_uid: { type: 'string' } },
};
const endpoint = {
  type: 'object',
  anyOf: ['ip', 'hostname', 'name', 'uid', 'domain', 'instance_uid', 'interface_uid'].map((k) => ({ required: [k] })),
  properties: { ip: { type: 'string', format: 'ipv4' }, name: { type: 'string' } },
};

/** Schemas by `class_uid`. */
export const OCSF_CLASS_SCHEMAS: Record<number, object> = {
  6003: klass(6003, 6, [1, 2, 3, 4], {
    required: ['actor', 'api', 'src_endpoint'],
    properties: {
      actor,
      api: { type: 'object', required: ['operation'], properties: { operation: { type: 'string' }, service: { type: 'object', properties: { name: { type: 'string' } } } } },
      src_endpoint: endpoint,
      resources: { type: 'array', items: { type: 'object' } },
      action_id: { enum: [0, 1, 2, 99] },
      disposition_id: { type: 'integer' },
      duration: int,
    },
  }),
  2004: klass(2004, 2, [1, 2, 3], {
    required: ['finding_info'],
    properties: {
      finding_info: { type: 'object', required: ['uid', 'title'], properties: { uid: { type: 'string' }, title: { type: 'string' }, types: { type: 'array', items: { type: 'string' } } } },
      risk_score: int,
      evidences: { type: 'array', items: { type: 'object' } },
      is_alert: { type: 'boolean' },
    },
  }),
  3004: klass(3004, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], {
    required: ['entity'],
    properties: { entity: { type: 'object', anyOf: [{ required: ['name'] }, { required: ['uid'] }] } },
  }),
  3002: klass(3002, 3, [1, 2, 3, 4, 5, 6, 7], {
    required: ['user'],
    properties: { user: { type: 'object', anyOf: [{ required: ['uid'] }, { required: ['name'] }] }, src_endpoint: endpoint },
  }),
  1008: klass(1008, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { required: [], properties: { log_name: { type: 'string' }, log_provider: { type: 'string' } } }),
};
