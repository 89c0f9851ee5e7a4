import type { FastifyInstance } from 'fastify';
import { MAX_JSON_DEPTH, jsonTextTooDeep, jsonValueIssue } from '../domain/index.js';
import { RequestInvalid } from './errors.js';

/**
 * The API's one JSON body parser. Besides syntax it refuses, as a precise 400, what the checkpoint
 * and the store cannot take as it came: nesting past {@link MAX_JSON_DEPTH} (counted on the text,
 * before parsing), numbers that overflow to infinity (`1e999`), unpaired surrogates and
 * `__proto__` keys. Each names the JSON pointer where it sits.
 */
export function jsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(new RequestInvalid('the request body is empty; send a JSON object'), undefined);
    if (jsonTextTooDeep(text, MAX_JSON_DEPTH) !== undefined) {
      return done(new RequestInvalid(`the request body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`), undefined);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return done(new RequestInvalid('the request body is not valid JSON'), undefined);
    }
    const issue = jsonValueIssue(value);
    if (issue) return done(new RequestInvalid(`the request body is invalid: \`${issue.path}\` ${issue.message}`, [issue]), undefined);
    return done(null, value);
  });
}
