/** Background work of the server process: periodic jobs on daemon threads of their own. */
@NullMarked
package dev.protorad.server.background;

import org.jspecify.annotations.NullMarked;
