"""Who produces and consumes which contract versions, and when each was last seen."""
