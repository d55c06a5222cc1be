"""What the bot asks and says: the published question flow, its texts, the dry run and the funnel analytics."""
