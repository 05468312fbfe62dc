"""The service-desk portal: a small read-only web app over the warehouse and the exports folder."""
