package events

func (s *Service) demoStream() {}
