package machine

func (c *CPU) execX87(in *dinst, next uint64) int { return c.ud() }
