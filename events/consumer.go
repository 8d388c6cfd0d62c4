package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

type natsMsg = nats.Msg

// maxAckPending bounds the events handed out by the stream and not yet
// acknowledged, across the processes sharing the consumer.
const maxAckPending = 4096

// consumer pulls the event stream through the installation's durable
// consumer and hands each message to a pool of workers. A worker
// acknowledges a message only when the event is indexed and its rules'
// actions are done or durably queued; on failure it asks for redelivery
// with a growing delay. Nothing is ever dropped: MaxDeliver is unlimited.
type consumer struct {
	svc  *Service
	cc   jetstream.ConsumeContext
	work chan jetstream.Msg
	wg   sync.WaitGroup
	// acks holds processed events until their index batch commits, so
	// that workers move on to the next event meanwhile.
	acks    chan pendingAck
	ackDone chan struct{}

	// halt ends work in progress when the shutdown deadline passes.
	halt   context.Context
	cancel context.CancelFunc

	// busy holds, per worker, the message it works on, for the lease
	// renewer.
	busy []atomic.Pointer[leased]

	invalid atomic.Int64
	mu      sync.Mutex
	lastErr error
}

type leased struct {
	msg   jetstream.Msg
	since time.Time
}

// pendingAck is a processed event waiting for its index row to commit.
type pendingAck struct {
	msg   jetstream.Msg
	batch *indexBatch
	seq   uint64
	tries uint64
}

// consumerConfig is the durable consumer's configuration when it is
// created; it uses only features of NATS 2.9.
func (s *Service) consumerConfig() jetstream.ConsumerConfig {
	start := s.install.CreatedAt
	return jetstream.ConsumerConfig{
		Durable:       s.install.consumerName(),
		Description:   "Gaffer event rules (one consumer shared by the processes of an installation)",
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &start,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.settings.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: maxAckPending,
		FilterSubject: bus.SubjectPrefix + ">",
	}
}

// openConsumer finds the installation's durable consumer, or creates it.
// An existing consumer keeps its starting point (and gets the current ack
// wait). A new one starts at the installation's creation, unless the event
// index shows that this installation processed events before (the
// consumer was deleted, or the NATS server lost its state): then it
// resumes a little before the last indexed event, rather than acting again
// on everything the stream retains.
func (s *Service) openConsumer(ctx context.Context) (jetstream.Consumer, error) {
	cfg := s.consumerConfig()
	cons, err := s.bus.JS.Consumer(ctx, bus.StreamName, cfg.Durable)
	if err == nil {
		old := cons.CachedInfo().Config
		if old.AckWait == cfg.AckWait && old.MaxAckPending == cfg.MaxAckPending {
			return cons, nil
		}
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = old.DeliverPolicy, old.OptStartSeq, old.OptStartTime
		updated, err := s.bus.JS.UpdateConsumer(ctx, bus.StreamName, cfg)
		if err != nil {
			// NATS 2.9 refuses any update of a consumer with a start
			// time; the old settings still work.
			s.log.Warn("could not update the durable consumer; it keeps its ack wait and pending limit",
				"consumer", cfg.Durable, "ack_wait", old.AckWait, "error", err)
			return cons, nil
		}
		return updated, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	if seq, ok := s.resumePoint(ctx); ok {
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = jetstream.DeliverByStartSequencePolicy, seq, nil
		s.log.Warn("the durable consumer was missing; resuming from the event index", "consumer", cfg.Durable, "seq", seq)
	}
	cons, err = s.bus.JS.CreateConsumer(ctx, bus.StreamName, cfg)
	if err != nil {
		// Another process may have created it meanwhile.
		if again, err2 := s.bus.JS.Consumer(ctx, bus.StreamName, cfg.Durable); err2 == nil {
			return again, nil
		}
		return nil, err
	}
	return cons, nil
}

// resumePoint is where a re-created consumer starts: MaxAckPending events
// before the newest indexed one (events up to that many may have been in
// flight, indexed but not finished). It reports false when the index is
// empty, or ahead of the stream (the stream was re-created).
func (s *Service) resumePoint(ctx context.Context) (uint64, bool) {
	var last sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(seq) FROM event_index").Scan(&last); err != nil || !last.Valid {
		return 0, false
	}
	info, err := s.bus.Stream.Info(ctx)
	if err != nil || uint64(last.Int64) > info.State.LastSeq {
		return 0, false
	}
	window := int64(s.consumerConfig().MaxAckPending)
	return uint64(max(1, last.Int64-window)), true
}

func (s *Service) startConsumer(ctx context.Context) (*consumer, error) {
	cons, err := s.openConsumer(ctx)
	if err != nil {
		return nil, fmt.Errorf("events: durable consumer %s: %w", s.install.consumerName(), err)
	}
	c := &consumer{svc: s, work: make(chan jetstream.Msg, s.settings.Workers),
		busy: make([]atomic.Pointer[leased], s.settings.Workers),
		acks: make(chan pendingAck, maxAckPending), ackDone: make(chan struct{})}
	c.halt, c.cancel = context.WithCancel(context.Background())
	go c.acker()
	for i := 0; i < s.settings.Workers; i++ {
		c.wg.Add(1)
		go c.worker(i)
	}
	go c.renewLeases()
	c.cc, err = cons.Consume(func(msg jetstream.Msg) {
		select {
		case c.work <- msg:
		case <-c.halt.Done():
			msg.Nak()
		}
	},
		jetstream.PullMaxMessages(2*s.settings.Workers),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrNoHeartbeat) || errors.Is(err, nats.ErrConnectionClosed) {
				c.setErr(err)
			}
			s.log.Warn("event stream consumer", "error", err)
		}))
	if err != nil {
		close(c.work)
		c.wg.Wait()
		return nil, fmt.Errorf("events: consume %s: %w", bus.StreamName, err)
	}
	return c, nil
}

func (c *consumer) setErr(err error) {
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
}

func (c *consumer) health() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastErr != nil {
		return fmt.Errorf("events: consumer: %w", c.lastErr)
	}
	return nil
}

// stop drains the consumer: messages already received are processed until
// ctx ends; after that, work in progress is abandoned and redelivered.
func (c *consumer) stop(ctx context.Context) error {
	c.cc.Drain()
	select {
	case <-c.cc.Closed():
	case <-ctx.Done():
		c.cancel() // abandon work in progress; it is redelivered
		c.cc.Stop()
		<-c.cc.Closed()
	}
	close(c.work)
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(c.acks); <-c.ackDone; close(done) }()
	defer c.cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		c.cancel()
		<-done
		return fmt.Errorf("events: stop consumer: %w (unfinished events will be redelivered)", ctx.Err())
	}
}

func (c *consumer) worker(slot int) {
	defer c.wg.Done()
	var act activation
	for msg := range c.work {
		c.busy[slot].Store(&leased{msg: msg, since: time.Now()})
		c.handle(msg, &act)
		c.busy[slot].Store(nil)
	}
}

// renewLeases tells the stream that events taking long (a slow webhook)
// are still being worked on, so that they are not redelivered meanwhile.
func (c *consumer) renewLeases() {
	every := c.svc.settings.AckWait / 4
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-c.halt.Done():
			return
		}
		for i := range c.busy {
			if l := c.busy[i].Load(); l != nil && time.Since(l.since) >= every {
				l.msg.InProgress()
			}
		}
	}
}

// handle processes one message and acknowledges it, or asks for its
// redelivery.
func (c *consumer) handle(msg jetstream.Msg, act *activation) {
	s := c.svc
	meta, err := msg.Metadata()
	if err != nil {
		s.log.Error("event without JetStream metadata", "subject", msg.Subject(), "error", err)
		msg.Term()
		return
	}
	ev, err := bus.ParseEvent(msg.Data())
	if err != nil {
		// Published on gaffer.> by something that is not a CloudEvents
		// producer: there is nothing a rule could do with it.
		c.invalid.Add(1)
		s.log.Warn("not a CloudEvent; skipped", "subject", msg.Subject(), "seq", meta.Sequence.Stream, "error", err)
		msg.Term()
		return
	}
	batch, err := s.processEvent(c.halt, ev, meta.Sequence.Stream, meta.Timestamp, act)
	if err != nil {
		c.retry(msg, meta.Sequence.Stream, meta.NumDelivered, err)
		return
	}
	c.acks <- pendingAck{msg: msg, batch: batch, seq: meta.Sequence.Stream, tries: meta.NumDelivered}
}

// retry asks the stream to redeliver an event, later the more often it
// failed.
func (c *consumer) retry(msg jetstream.Msg, seq, delivered uint64, err error) {
	delay := min(time.Duration(delivered)*time.Second, time.Minute)
	c.svc.log.Warn("event processing failed; it will be redelivered", "seq", seq, "delivery", delivered,
		"retry_in", delay, "error", err)
	msg.NakWithDelay(delay)
}

// acker acknowledges processed events once their index rows commit.
// Batches commit in order, so waiting for them one by one costs nothing.
func (c *consumer) acker() {
	defer close(c.ackDone)
	for p := range c.acks {
		if err := p.batch.wait(c.halt); err != nil {
			c.retry(p.msg, p.seq, p.tries, err)
			continue
		}
		p.msg.Ack()
	}
}
