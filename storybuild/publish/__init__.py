"""Publishing finished stories: YouTube uploads that never happen twice, and vertical Shorts."""
