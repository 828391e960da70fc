import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compileTemplate,
  parseFormat,
  renderList,
  renderTemplate,
  sprintf,
  TemplateError,
  tabwrite,
} from "./index.ts";

const r = renderTemplate;

const inspect = {
  Id: "abc123",
  Name: "/web",
  Args: ["-c", "echo hi"],
  State: { Status: "running", Running: true, Pid: 42, ExitCode: 0, Health: null },
  Config: {
    Cmd: ["sh", "-c", "echo hi"],
    Env: ["A=1", "B=2"],
    Labels: { "com.example.a": "x", zeta: "z" },
    Image: "alpine",
    Hostname: "h",
  },
  Mounts: [
    { Type: "volume", Source: "/v/a", Destination: "/a", RW: true },
    { Type: "bind", Source: "/b", Destination: "/b", RW: false },
  ],
  NetworkSettings: { Ports: {}, Networks: { bridge: { IPAddress: "172.17.0.2" } } },
  Size: 1.5,
};

describe("template: fields and printing", () => {
  it("prints fields and nested fields", () => {
    assert.equal(r("{{.Id}} {{.State.Status}} {{.State.Pid}}", inspect), "abc123 running 42");
  });
  it("prints slices, maps and structs like fmt %v", () => {
    assert.equal(r("{{.Config.Cmd}}", inspect), "[sh -c echo hi]");
    assert.equal(r("{{.Config.Labels}}", inspect), "map[com.example.a:x zeta:z]");
    assert.equal(r("{{.NetworkSettings.Ports}}", inspect), "map[]");
    assert.equal(
      r("{{.State}}", { State: { Status: "exited", Running: false, Pid: 0 } }),
      "{exited false 0}",
    );
    assert.equal(r("{{.State.Health}}", inspect), "<nil>");
    assert.equal(r("{{.Missing}}", inspect), "<no value>");
    assert.equal(r("{{.Size}}", inspect), "1.5");
    assert.equal(r("{{.}}", 1e-7), "1e-07");
    assert.equal(r("{{.}}", 123456789012), "123456789012");
  });
  it("errors on fields of nil", () => {
    assert.throws(() => r("{{.State.Health.Status}}", inspect), /nil pointer evaluating/);
  });
  it("keeps text around actions and handles trim markers", () => {
    assert.equal(r("a {{- .Id -}} b", inspect), "aabc123b");
    assert.equal(r("a  {{- .Id}}  b", inspect), "aabc123  b");
    assert.equal(r("x{{/* comment */}}y", {}), "xy");
    assert.equal(r("x {{- /* c */ -}} y", {}), "xy");
  });
  it("accepts `$` and variables", () => {
    assert.equal(r("{{$n := .Name}}{{$n}}{{$.Id}}", inspect), "/webabc123");
    assert.equal(r("{{$x := 1}}{{$x = 2}}{{$x}}", {}), "2");
  });
});

describe("template: functions", () => {
  it("json", () => {
    assert.equal(r("{{json .Config.Env}}", inspect), '["A=1","B=2"]');
    assert.equal(r("{{json .State.Health}}", inspect), "null");
    assert.equal(r('{{json "a<b&c"}}', {}), '"a<b&c"');
  });
  it("index on maps and slices", () => {
    assert.equal(r('{{index .Config.Labels "com.example.a"}}', inspect), "x");
    assert.equal(r('{{index .Config.Labels "nope"}}', inspect), "");
    assert.equal(r("{{index .Config.Cmd 1}}", inspect), "-c");
    assert.equal(r('{{(index .NetworkSettings.Networks "bridge").IPAddress}}', inspect), "172.17.0.2");
    assert.throws(() => r("{{index .Config.Cmd 9}}", inspect), /error calling index: index out of range: 9/);
  });
  it("join, split, lower, upper, title, pad, truncate", () => {
    assert.equal(r('{{join .Args " "}}', inspect), "-c echo hi");
    assert.equal(r('{{split "a:b:c" ":"}}', {}), "[a b c]");
    assert.equal(r('{{lower "AbC"}} {{upper "abc"}} {{title "hello world"}}', {}), "abc ABC Hello World");
    assert.equal(r('[{{pad "x" 1 2}}]', {}), "[ x  ]");
    assert.equal(r('{{truncate "abcdef" 3}}', {}), "abc");
    assert.throws(() => r("{{lower 3}}", {}), /wrong type for value; expected string; got int/);
  });
  it("len, printf, print, println", () => {
    assert.equal(r("{{len .Mounts}} {{len .Config.Labels}} {{len .Name}}", inspect), "2 2 4");
    assert.equal(r('{{printf "%s=%d" .Name .State.Pid}}', inspect), "/web=42");
    assert.equal(
      r('{{printf "%-6s|%5s|%05d|%q|%v|%t" "ab" "cd" 42 "x" .Config.Cmd true}}', inspect),
      'ab    |   cd|00042|"x"|[sh -c echo hi]|true',
    );
    assert.equal(r('{{printf "%.2f %x %X %o"  3.14159 255 255 8}}', {}), "3.14 ff FF 10");
    assert.equal(r('{{print 1 2 "a" "b" 3}}', {}), "1 2ab3");
    assert.equal(r('{{println "a" 1}}', {}), "a 1\n");
    assert.equal(sprintf("%d %s", [1]), "1 %!s(MISSING)");
    assert.equal(sprintf("%d", [1, 2]), "1%!(EXTRA int=2)");
  });
  it("pipes pass the value as the last argument", () => {
    assert.equal(r('{{.Name | printf "%s!"}}', inspect), "/web!");
    assert.equal(r("{{.State.Status | upper | lower}}", inspect), "running");
    assert.equal(r("{{.Config.Env | len}}", inspect), "2");
    // As in Go, the piped value goes last, so join gets its arguments in the wrong order.
    assert.throws(() => r('{{.Config.Env | join "," }}', inspect), /expected \[\]string; got string/);
  });
  it("comparison and logic", () => {
    assert.equal(
      r('{{eq .State.Status "running"}} {{ne 1 2}} {{lt 1 2}} {{ge 2 2}} {{gt "b" "a"}}', inspect),
      "true true true true true",
    );
    assert.equal(r('{{eq .State.Status "a" "running"}}', inspect), "true");
    assert.equal(r('{{and 1 0 2}} {{or 0 "" 3}} {{not 0}} {{and 1 2}}', {}), "0 3 true 2");
    assert.throws(() => r('{{eq 1 "a"}}', {}), /incompatible types for comparison/);
  });
  it("rejects unknown functions at parse time like Go", () => {
    assert.throws(() => compileTemplate("{{foo}}"), { message: 'template: :1: function "foo" not defined' });
  });
});

describe("template: control flow", () => {
  it("if / else if / else", () => {
    const t = '{{if eq .State.Status "exited"}}E{{else if .State.Running}}R{{else}}?{{end}}';
    assert.equal(r(t, inspect), "R");
    assert.equal(r(t, { State: { Status: "exited" } }), "E");
    assert.equal(r(t, { State: { Status: "x", Running: false } }), "?");
    assert.equal(r("{{if .Config.Labels}}yes{{end}}{{if .NetworkSettings.Ports}}no{{end}}", inspect), "yes");
    assert.equal(r("{{if .Missing}}a{{else}}b{{end}}", {}), "b");
  });
  it("range over slices, maps, with variables, else, break", () => {
    assert.equal(r("{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}", inspect), "/v/a:/a /b:/b ");
    assert.equal(r("{{range $i, $m := .Mounts}}{{$i}}={{$m.Type}},{{end}}", inspect), "0=volume,1=bind,");
    assert.equal(
      r("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", inspect),
      "com.example.a=x;zeta=z;",
    );
    assert.equal(r("{{range .Nope}}x{{else}}empty{{end}}", {}), "empty");
    assert.equal(r("{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", [1, 2, 3, 4]), "12");
    assert.equal(r("{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", [1, 2, 3]), "13");
    assert.equal(r("{{range $e := .}}{{$e}}{{end}}", ["a", "b"]), "ab");
    assert.equal(r("{{range 3}}{{.}}{{end}}", {}), "012");
    assert.equal(r("{{range .Networks}}{{.IPAddress}}{{end}}", inspect.NetworkSettings), "172.17.0.2");
  });
  it("with changes dot", () => {
    assert.equal(r("{{with .State}}{{.Status}}{{end}}", inspect), "running");
    assert.equal(r("{{with .State.Health}}h{{else}}none{{end}}", inspect), "none");
  });
  it("define / template", () => {
    assert.equal(r('{{define "x"}}<{{.}}>{{end}}{{template "x" .Name}}', inspect), "</web>");
  });
  it("parenthesised pipelines and chains", () => {
    assert.equal(r('{{(printf "%s-%s" "a" "b") | upper}}', {}), "A-B");
    assert.equal(r("{{(index .Mounts 1).Source}}", inspect), "/b");
  });
});

describe("template: syntax errors worded like Go", () => {
  const cases: [string, string][] = [
    ["{{.ID", "template: :1: unclosed action"],
    ["{{if .A}}x", "template: :1: unexpected EOF"],
    ["{{end}}", "template: :1: unexpected {{end}}"],
    ["{{if}}{{end}}", "template: :1: missing value for if"],
    ["{{$x}}", 'template: :1: undefined variable "$x"'],
  ];
  for (const [src, msg] of cases) {
    it(src, () =>
      assert.throws(
        () => compileTemplate(src),
        (e: unknown) => e instanceof TemplateError && e.message === msg,
      ),
    );
  }
  it("reports execution errors with position", () => {
    class ContainerContext {
      ID(): string {
        return "x";
      }
    }
    assert.throws(() => r("{{.Foo}}", new ContainerContext()), {
      message: 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *ContainerContext',
    });
  });
});

describe("methods on formatter contexts", () => {
  class Ctx {
    ID(): string {
      return "123";
    }
    Label(k: string): string {
      return k === "a" ? "1" : "";
    }
  }
  it("calls methods, with arguments", () => {
    assert.equal(r('{{.ID}} {{.Label "a"}}', new Ctx()), "123 1");
  });
});

describe("tabwriter and tables", () => {
  it("pads like Go's tabwriter(10, 1, 3, ' ', 0)", () => {
    const out = tabwrite("CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox:latest\tx\n");
    assert.equal(out, "CONTAINER ID   IMAGE            NAMES\nabc            busybox:latest   x\n");
  });
  it("sizes columns per block of lines", () => {
    assert.equal(tabwrite("a\tb\nccccccccccccc\nd\te\n"), "a         b\nccccccccccccc\nd         e\n");
  });
  it("renders table formats with headers", () => {
    const fmt = parseFormat("table {{.ID}}\\t{{.Name}}", "");
    const out = renderList(fmt, [{ ID: "1", Name: "one" }], {
      headers: { ID: "CONTAINER ID", Name: "NAME" },
    });
    assert.equal(out, "CONTAINER ID   NAME\n1              one\n");
  });
  it("renders plain templates one line per item, and json", () => {
    assert.equal(
      renderList(parseFormat("{{.ID}}", ""), [{ ID: "1" }, { ID: "2" }], { headers: {} }),
      "1\n2\n",
    );
    assert.equal(renderList(parseFormat("json", ""), [{ ID: "1" }], { headers: {} }), '{"ID":"1"}\n');
  });
  it("prints only the header for an empty table", () => {
    const out = renderList(parseFormat("", "{{.ID}}\t{{.Name}}"), [], {
      headers: { ID: "ID", Name: "NAME" },
    });
    assert.equal(out, "ID        NAME\n");
  });
});
