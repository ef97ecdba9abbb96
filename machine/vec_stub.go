package machine

func (c *CPU) execVec(in *dinst, next uint64) int { return c.ud() }
