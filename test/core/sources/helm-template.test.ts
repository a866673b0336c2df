import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/core/sources/helm-template.js';

const release = { name: 'platform', namespace: 'argocd' };

describe('renderTemplate (minimal Go-template evaluator)', () => {
  it('prints values with quote and default and remembers their values paths', () => {
    const r = renderTemplate(
      'a: {{ .Values.x.y | quote }}\nb: {{ .Values.missing | default .Values.x.z }}\n',
      { x: { y: 1, z: 'zz' } },
      release,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.output).toBe('a: "1"\nb: zz\n');
    expect(r.substitutions.map((s) => [s.path.join('.'), s.text])).toEqual([
      ['x.y', '"1"'],
      ['x.z', 'zz'],
    ]);
  });

  it('renders if/else, range over lists and maps with variables, $ and toYaml | nindent, trimming whitespace', () => {
    const text = [
      '{{- if .Values.on }}',
      '{{- range .Values.list }}',
      '- {{ .name }}-{{ $.Values.suffix }}',
      '{{- end }}',
      '{{- else }}',
      'off',
      '{{- end }}',
      '{{- range $k, $v := .Values.map }}',
      '{{ $k }}:{{- toYaml $v | nindent 2 }}',
      '{{- end }}',
      '',
    ].join('\n');
    const r = renderTemplate(text, { on: true, suffix: 's', list: [{ name: 'a' }, { name: 'b' }], map: { z: { l: 1 }, y: [2] } }, release);
    expect(r.ok && r.output).toBe('\n- a-s\n- b-s\ny:\n  - 2\nz:\n  l: 1\n');
    expect(r.ok && r.iterations.map((i) => [i.over.join('.'), i.key])).toEqual([
      ['list', 0],
      ['list', 1],
      ['map', 'y'],
      ['map', 'z'],
    ]);
  });

  it('leaves a template with an unsupported construct unread, naming the line (never throws)', () => {
    const r = renderTemplate('a: 1\nlabels:\n  {{- include "x" . | nindent 2 }}\n', {}, release);
    expect(r).toEqual({ ok: false, line: 3, reason: expect.stringContaining('include') });
    for (const bad of [
      '{{ .Chart.Version }}',
      '{{ $x := 1 }}',
      '{{ printf "%s" .Values.a }}',
      '{{ .Values.m }}',
      '{{ if .Values.a }}',
      '{{ tpl .Values.a . }}',
    ]) {
      const res = renderTemplate(`x: 1\n${bad}\n`, { m: { a: 1 } }, release);
      expect(res.ok, bad).toBe(false);
      if (!res.ok) expect(res.line, bad).toBe(2);
    }
  });
});
