package events

import (
	"context"
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

// consumerConfig is the durable consumer's configuration. It must be the
// same in every process (and across versions) so that each process's
// CreateOrUpdateConsumer agrees; it uses only features of NATS 2.9.
func (s *Service) consumerConfig() jetstream.ConsumerConfig {
	start := s.install.CreatedAt
	return jetstream.ConsumerConfig{
		Durable:       s.install.consumerName(),
		Description:   "Gaffer event rules (one consumer shared by the processes of an installation)",
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &start,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.opts.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 4096,
		FilterSubject: bus.SubjectPrefix + ">",
	}
}

func (s *Service) startConsumer(ctx context.Context) (*consumer, error) {
	cons, err := s.bus.JS.CreateOrUpdateConsumer(ctx, bus.StreamName, s.consumerConfig())
	if err != nil {
		return nil, fmt.Errorf("events: create durable consumer %s: %w", s.install.consumerName(), err)
	}
	c := &consumer{svc: s, work: make(chan jetstream.Msg, s.opts.Workers),
		busy: make([]atomic.Pointer[leased], s.opts.Workers)}
	c.halt, c.cancel = context.WithCancel(context.Background())
	for i := 0; i < s.opts.Workers; i++ {
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
		jetstream.PullMaxMessages(2*s.opts.Workers),
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
	go func() { c.wg.Wait(); close(done) }()
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
	every := c.svc.opts.AckWait / 4
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
	err = s.processEvent(c.halt, ev, meta.Sequence.Stream, meta.Timestamp, act)
	if err != nil {
		delay := min(time.Duration(meta.NumDelivered)*time.Second, time.Minute)
		s.log.Warn("event processing failed; it will be redelivered", "id", ev.ID, "type", ev.Type,
			"seq", meta.Sequence.Stream, "delivery", meta.NumDelivered, "retry_in", delay, "error", err)
		msg.NakWithDelay(delay)
		return
	}
	msg.Ack()
}
