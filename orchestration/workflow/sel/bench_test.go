package sel

import (
	"context"
	"testing"
)

var benchExprs = map[string]string{
	"arith":     "i + 1",
	"condition": "params.getFromStep('job.3', 'param2') > 0",
	"policy":    `WORKFLOW_RUN_POLICY = params.getFromInstance('RUN_POLICY'); if (WORKFLOW_RUN_POLICY == "START_FRESH_NEW_RUN") return "run"; else if (WORKFLOW_RUN_POLICY == "RESTART_FROM_INCOMPLETE") return "resume"; else throw "Unsupported restart mode: " + WORKFLOW_RUN_POLICY;`,
	"joda":      "DateTimeFormat.forPattern('yyyyMMddHH').withZone(DateTimeZone.forID('UTC')).parseDateTime(TARGET_RUN_DATE + '00').minusDays(1).toString('yyyyMMdd')",
	"dates":     "Util.dateIntsBetween(20200101, 20210101, 1)",
}

func BenchmarkCompile(b *testing.B) {
	for name, src := range benchExprs {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Compile(src, testEnv()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEval(b *testing.B) {
	s := testScope()
	for name, src := range benchExprs {
		p, err := Compile(src, testEnv())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := p.Eval(context.Background(), s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
