package consent

import (
	"context"
	"log/slog"
)

// Audit event kinds: the message and the "event" attribute of each record
// the Gate logs.
const (
	AuditDecision = "consent.decision" // a decision (only with GateConfig.LogDecisions)
	AuditChange   = "consent.change"   // a grant, denial or withdrawal was recorded
	AuditErase    = "consent.erase"    // a subject was erased
	AuditImport   = "consent.import"   // ledger records were imported
)

func (g *Gate) logDecision(ctx context.Context, d *Decision) {
	g.logger.LogAttrs(ctx, slog.LevelInfo, AuditDecision,
		slog.String("event", AuditDecision),
		slog.String("purpose", string(d.Purpose)),
		slog.Bool("allowed", d.Allowed),
		slog.String("reason", d.Reason.String()),
		slog.String("basis", d.Basis.String()),
		slog.String("regime", d.Regime.String()),
		slog.Int("policy_version", d.PolicyVersion),
		slog.Uint64("seq", d.Record.Seq),
	)
}

func (g *Gate) logChange(ctx context.Context, r *Record) {
	if g.logger == nil {
		return
	}
	g.logger.LogAttrs(ctx, slog.LevelInfo, AuditChange,
		slog.String("event", AuditChange),
		slog.String("purpose", string(r.Purpose)),
		slog.String("action", r.Action.String()),
		slog.String("source", r.Source.String()),
		slog.String("channel", string(r.Channel)),
		slog.String("actor", r.Actor.String()),
		slog.Int("policy_version", r.PolicyVersion),
		slog.Uint64("seq", r.Seq),
	)
}

func (g *Gate) logErase(ctx context.Context, e *Erasure) {
	if g.logger == nil {
		return
	}
	g.logger.LogAttrs(ctx, slog.LevelInfo, AuditErase,
		slog.String("event", AuditErase),
		slog.Int("records", e.Records),
		slog.Int("withdrawn", len(e.Withdrawn)),
	)
}

func (g *Gate) logImport(ctx context.Context, n int, last uint64) {
	if g.logger == nil {
		return
	}
	g.logger.LogAttrs(ctx, slog.LevelInfo, AuditImport,
		slog.String("event", AuditImport),
		slog.Int("records", n),
		slog.Uint64("seq", last),
	)
}
