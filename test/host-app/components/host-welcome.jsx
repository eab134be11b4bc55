// A page the host app owns, bundled by AdminJS beside the CRM plugin's screens.
import React from 'react';
import { Box, H2, Text } from '@adminjs/design-system';

const HostWelcome = () => (
  <Box variant="grey">
    <H2>Host back office</H2>
    <Text>This page belongs to the host app; the CRM screens come from the plugin.</Text>
  </Box>
);

export default HostWelcome;
