/** Background work of the server process: periodic jobs on daemon threads of their own. */
package dev.protorad.server.background;
